"""Strict mode: Step Functions on moto refuses what AWS refuses (docs/EMULATOR.md).

moto's interpreter (LocalStack's) is kinder than AWS in four ways that hide
real faults. Each patch below checks that the code it changes still looks as
expected and stops the launcher otherwise, so a moto upgrade cannot silently
run without it. The launcher applies them unless MOTO_STRICT=0.

S1. A path's States.Runtime is never retried or caught, States.ALL
    included, and States.DataLimitExceeded is not caught by States.ALL (AWS:
    "Handling errors in Step Functions workflows", error names). moto caught
    both.
S2. A Choice variable that finds nothing fails the execution with
    States.Runtime unless the rule is IsPresent (AWS: Choice state, "IsPresent"
    and the States.Runtime error name). moto treated it as "no match".
S3. The payload quota: 256 KiB (262,144 bytes) of UTF-8 JSON for a state's
    input after Parameters, its output, and a task's result (AWS: "Step
    Functions service quotas", "Maximum input or output size for a task, state,
    or execution"). moto measured ASCII-escaped JSON with spaces and refused
    exactly 262,144 bytes; it never measured the input after Parameters.
S4. A Distributed Map fails its Map Run with
    States.ExceedToleratedFailureThreshold, and stops its running children,
    once failed children exceed ToleratedFailureCount /
    ToleratedFailurePercentage (both 0 unless given) (AWS: "Setting failure
    thresholds for Distributed Map states"). moto ignored the thresholds.
"""

import functools
import json
import threading
import traceback

MAX_PAYLOAD_BYTES = 262144

_TERMINAL = "States.Runtime"


def _fail(env, error, cause):
    from moto.stepfunctions.parser.api import HistoryEventType, TaskFailedEventDetails
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEvent, FailureEventException
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

    return FailureEventException(failure_event=FailureEvent(
        env=env, error_name=StatesErrorName.from_name(error), event_type=HistoryEventType.TaskFailed,
        event_details=EventDetails(taskFailedEventDetails=TaskFailedEventDetails(error=error, cause=cause))))


def _marked(fn):
    fn._launcher_strict = True
    return fn


def _check_unpatched(owner, name, label):
    fn = getattr(owner, name, None)
    if fn is None or getattr(fn, "_launcher_strict", False):
        raise SystemExit(f"launcher: {owner.__name__}.{name} missing or patched twice; re-check strict {label}")
    return fn


def _path_runtime(failure_event):
    """A States.Runtime of a JSONPath that found nothing (the interpreter's
    own and the Choice patch's messages). moto also reports some service
    integrations' failures as States.Runtime (a PutEvents to a missing bus,
    say), which AWS reports as a task failure named after the service's
    error: those stay catchable, as on AWS."""
    name = getattr(failure_event.error_name, "error_name", None)
    if name != _TERMINAL:
        return False
    details = list((failure_event.event_details or {}).values())
    cause = (details[0].get("cause") or "") if details and isinstance(details[0], dict) else ""
    return "JSONPath" in cause or "Invalid path" in cause


def patch_terminal_errors():
    """S1: a retrier or catcher never takes a path's States.Runtime; States.ALL
    does not match States.DataLimitExceeded (naming it explicitly does)."""
    from moto.stepfunctions.parser.asl.component.common.catch.catch_outcome import CatchOutcome
    from moto.stepfunctions.parser.asl.component.common.error_name.error_equals_decl import ErrorEqualsDecl
    from moto.stepfunctions.parser.asl.component.common.retry.retry_outcome import RetryOutcome
    from moto.stepfunctions.parser.asl.component.state.exec.execute_state import ExecutionState

    original = _check_unpatched(ErrorEqualsDecl, "_eval_body", "S1")
    retry = _check_unpatched(ExecutionState, "_handle_retry", "S1")
    catch = _check_unpatched(ExecutionState, "_handle_catch", "S1")

    @_marked
    def _eval_body(self, env):
        name = getattr(env.stack[-1], "error_name", None)
        if name == "States.DataLimitExceeded":
            env.stack.pop()
            env.stack.append(any(getattr(e, "error_name", None) == name for e in self.error_names))
            return
        original(self, env)

    @_marked
    def _handle_retry(self, env, failure_event):
        if _path_runtime(failure_event):
            return RetryOutcome.CannotRetry
        return retry(self, env, failure_event)

    @_marked
    def _handle_catch(self, env, failure_event):
        if _path_runtime(failure_event):
            env.stack.append(CatchOutcome.NotCaught)
            return
        catch(self, env, failure_event)

    ErrorEqualsDecl._eval_body = _eval_body
    ExecutionState._handle_retry = _handle_retry
    ExecutionState._handle_catch = _handle_catch


def patch_choice_variable():
    """S2: comparing a variable that finds nothing is States.Runtime."""
    from moto.stepfunctions.parser.asl.component.state.choice.comparison.comparison_operator_type import ComparisonOperatorType
    from moto.stepfunctions.parser.asl.component.state.choice.comparison.comparison_variable import ComparisonVariable
    from moto.stepfunctions.parser.asl.component.state.choice.comparison.variable import NoSuchVariable

    _check_unpatched(ComparisonVariable, "_eval_body", "S2")
    if not hasattr(ComparisonOperatorType, "IsPresent"):
        raise SystemExit("launcher: ComparisonOperatorType.IsPresent missing; re-check strict S2")

    @_marked
    def _eval_body(self, env):
        self.variable.eval(env)
        value = env.stack[-1]
        if isinstance(value, NoSuchVariable) and self.comparison_function.operator_type != ComparisonOperatorType.IsPresent:
            raise _fail(env, _TERMINAL, f"Invalid path '{value.path}': the Choice state's condition path references "
                                        "an invalid value (guard it with IsPresent)")
        self.comparison_function.eval(env)

    ComparisonVariable._eval_body = _eval_body


def within_quota(value):
    """AWS's measure: the UTF-8 bytes of the value's compact JSON text (a
    string value counts with its quotes). Every caller passes a value."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)
    return len(text.encode("utf-8")) <= MAX_PAYLOAD_BYTES


def patch_payload_quota():
    """S3: every place moto measures a payload measures as AWS does, and a
    task's input after Parameters is measured too."""
    import moto.stepfunctions.parser.quotas as quotas
    import moto.stepfunctions.parser.asl.component.state.state as state_mod
    import moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task_lambda as lambda_mod
    import moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service as service_mod
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task import StateTask

    for mod in (quotas, state_mod, lambda_mod, service_mod):
        if getattr(mod, "is_within_size_quota", None) is None or getattr(quotas, "MAX_STATE_SIZE_UTF8_BYTES", 0) != MAX_PAYLOAD_BYTES:
            raise SystemExit(f"launcher: {mod.__name__}.is_within_size_quota changed; re-check strict S3")
        mod.is_within_size_quota = within_quota

    original = _check_unpatched(StateTask, "_eval_parameters", "S3")

    @_marked
    def _eval_parameters(self, env):
        out = original(self, env)
        if not within_quota(out):
            raise _fail(env, "States.DataLimitExceeded",
                        f"The state/task '{self.name}' has an input after Parameters exceeding the maximum number of bytes service limit.")
        return out

    StateTask._eval_parameters = _eval_parameters


def patch_tolerated_failures():
    """S4: count failed children per Map Run; past the threshold, end the
    Map Run with States.ExceedToleratedFailureThreshold and stop the rest."""
    from datetime import datetime, timezone

    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.itemprocessor.distributed_item_processor_worker import (
        DistributedItemProcessorWorker,
    )
    from moto.stepfunctions.parser.asl.eval.program_state import ProgramEnded, ProgramStopped

    original = _check_unpatched(DistributedItemProcessorWorker, "_eval_job", "S4")
    lock = threading.Lock()

    def judge(self, env, job):
        # Succeeded (ended) or stopped (aborted) children are no failure;
        # failed, timed-out and never-started (input error) ones are.
        if self.stopped() or isinstance(env.program_state(), (ProgramEnded, ProgramStopped)):
            return
        record = self._map_run_record
        with lock:
            failed = getattr(record, "_launcher_failed", 0) + 1
            record._launcher_failed = failed
        total = max(self._job_pool._jobs_number, 1)
        count, pct = record.tolerated_failure_count or 0, float(record.tolerated_failure_percentage or 0)
        if count > 0 or pct > 0:
            exceeded = (count > 0 and failed > count) or (pct > 0 and failed * 100.0 / total > pct)
        else:
            exceeded = failed > 0
        if not exceeded:
            return
        cause = (f"The specified tolerated failure threshold was exceeded: {failed} of {total} child executions failed "
                 f"(ToleratedFailureCount {count}, ToleratedFailurePercentage {pct:g})")
        job.job_output = _fail(env, "States.ExceedToleratedFailureThreshold", cause)
        # The Map Run fails: AWS stops the children still running.
        now = datetime.now(tz=timezone.utc)
        for frame in list(self._env._frames):
            if frame is not env:
                frame.set_stop(stop_date=now, cause=cause, error="States.ExceedToleratedFailureThreshold")

    @_marked
    def _eval_job(self, env, job):
        original(self, env, job)
        try:
            judge(self, env, job)
        except Exception as ex:  # a bug here must fail the Map Run, never hang it
            traceback.print_exc()
            job.job_output = ex

    DistributedItemProcessorWorker._eval_job = _eval_job


def apply():
    patch_terminal_errors()
    patch_choice_variable()
    patch_payload_quota()
    patch_tolerated_failures()
