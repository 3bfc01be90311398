"""Start moto's server with the fixes the local stack relies on (nine, numbered below).

Written for moto 5.2.1 (see docs/EMULATOR.md). Every patch checks that the code it
replaces still looks as expected and aborts otherwise, so a moto upgrade fails
loudly instead of silently running unpatched.

usage: python3 launcher.py PORT

Strict mode (strict.py beside this file: Step Functions refuses what AWS
refuses) is on unless MOTO_STRICT=0; the launcher prints which it runs.
"""

import copy
import functools
import inspect
import os
import sys
import textwrap
import uuid


def patch_state_machine_deepcopy():
    """Bug 1: StartExecution deep-copies the state machine together with its
    running executions, which hold thread locks ("cannot pickle
    '_thread.RLock'"), so a second StartExecution fails with HTTP 500.

    The clone only needs the definition and settings: copy every attribute
    except `executions` (a fresh empty list) and share `backend` (the backend
    is a registry, not state of this machine)."""
    from moto.stepfunctions.models import StateMachine

    if "__deepcopy__" in StateMachine.__dict__:
        raise SystemExit("launcher: StateMachine already has __deepcopy__; re-check patch 1")

    def __deepcopy__(self, memo):
        cls = self.__class__
        clone = cls.__new__(cls)
        memo[id(self)] = clone
        for key, value in self.__dict__.items():
            if key == "executions":
                clone.__dict__[key] = []
            elif key == "backend":
                clone.__dict__[key] = value
            else:
                clone.__dict__[key] = copy.deepcopy(value, memo)
        return clone

    StateMachine.__deepcopy__ = __deepcopy__


def patch_execution_default_name():
    """Bug 2: with execution on (the parser backend), an execution started
    without a name is named None, so the second one collides with the first.
    AWS names it with a UUID."""
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    original = StepFunctionsParserBackend.start_execution
    params = list(inspect.signature(original).parameters)
    if params[:3] != ["self", "state_machine_arn", "name"]:
        raise SystemExit(f"launcher: unexpected start_execution signature {params}; re-check patch 2")

    @functools.wraps(original)
    def start_execution(self, state_machine_arn, name=None, *args, **kwargs):
        if not name:
            name = str(uuid.uuid4())
        return original(self, state_machine_arn, name, *args, **kwargs)

    StepFunctionsParserBackend.start_execution = start_execution


# The snapshot loop of DynamoDBBackend.transact_write_items in moto 5.2.1:
# it deep-copies the whole table once per *item* of the transaction.
_SNAPSHOT_OLD = """            if table_name and table_name in self.tables:
                original_table_state[table_name] = copy.deepcopy("""
# Once per table per call: the first copy of a table is taken before any write
# (the loop runs before the first write), so rollback restores the same state.
_SNAPSHOT_NEW = """            if table_name and table_name in self.tables and table_name not in original_table_state:
                original_table_state[table_name] = copy.deepcopy("""


def patch_transact_write_snapshot():
    """Bug 3: TransactWriteItems deep-copies the whole table once per item as
    its rollback snapshot (9 s for 100 items on a 5,000-item table).

    Recompile the method from its own source with the one condition changed,
    in the module's namespace, so everything else stays moto's code."""
    import moto.dynamodb.models as ddb_models

    backend = ddb_models.DynamoDBBackend
    source = textwrap.dedent(inspect.getsource(backend.transact_write_items))
    dedented_old = textwrap.dedent(_SNAPSHOT_OLD)
    # getsource keeps the method's indentation; match after dedenting by 4.
    old = textwrap.indent(dedented_old, "        ")
    new = textwrap.indent(textwrap.dedent(_SNAPSHOT_NEW), "        ")
    if source.count(old) != 1:
        raise SystemExit("launcher: transact_write_items snapshot loop not found; re-check patch 3")
    patched = source.replace(old, new)
    namespace = {}
    # A distinct file name keeps tracebacks from pointing at the wrong lines.
    exec(compile(patched, "<launcher: patched transact_write_items>", "exec"), vars(ddb_models), namespace)
    backend.transact_write_items = namespace["transact_write_items"]


# Patch 6 (found here): moto's DynamoDB backend is not thread-safe, and the
# server answers requests on many threads (the state machine's Lambdas and the
# API write at once). A transaction's rollback snapshot deep-copies a table
# while another thread inserts into it: "dictionary changed size during
# iteration", an HTTP 500, about once in 100 executions under load. DynamoDB
# itself serialises conflicting writes; one lock around the backend's item
# operations does the same here.
_DYNAMODB_OPERATIONS = ("get_item", "put_item", "update_item", "delete_item", "query", "scan",
                        "transact_write_items", "transact_get_items", "batch_write_item", "batch_get_item")


def patch_dynamodb_serialise():
    import threading
    import functools
    import moto.dynamodb.models as ddb_models

    backend = ddb_models.DynamoDBBackend
    lock = threading.RLock()
    for name in _DYNAMODB_OPERATIONS:
        original = getattr(backend, name, None)
        if original is None or getattr(original, "_launcher_locked", False):
            raise SystemExit(f"launcher: DynamoDBBackend.{name} missing or patched twice; re-check patch 6")

        def locked(self, *args, __original=original, **kwargs):
            with lock:
                return __original(self, *args, **kwargs)

        functools.update_wrapper(locked, original)
        locked._launcher_locked = True
        setattr(backend, name, locked)


# Patch 4 (found here): a task token answered while the
# waitForTaskToken task's own Lambda is still running (SendTaskSuccess from the
# invoked function itself, which AWS accepts) is lost when the task has
# HeartbeatSeconds: the heartbeat endpoint is created after the answer arrived,
# so the wait sleeps a whole heartbeat period before looking at the outcome, then
# reports a heartbeat timeout. Give the new heartbeat endpoint the answer that
# is already there.
def patch_callback_answered_before_wait():
    from moto.stepfunctions.parser.asl.eval.callback import callback

    setup = callback.CallbackEndpoint.setup_heartbeat_endpoint
    if getattr(setup, "_launcher_patched", False) or not hasattr(callback.CallbackEndpoint, "get_outcome"):
        raise SystemExit("launcher: CallbackEndpoint changed; re-check patch 4")

    def setup_heartbeat_endpoint(self, heartbeat_seconds):
        endpoint = setup(self, heartbeat_seconds)
        if self.get_outcome() is not None:
            endpoint.notify()
        return endpoint

    setup_heartbeat_endpoint._launcher_patched = True
    callback.CallbackEndpoint.setup_heartbeat_endpoint = setup_heartbeat_endpoint


# Patch 5: moto 5.2.1 stubs out StateTaskService._normalise_parameters and
# _normalise_response (LocalStack maps the Step Functions-cased keys to the
# boto model there), so an optimized integration whose API is camelCase
# (arn:aws:states:::states:startExecution: StateMachineArn -> stateMachineArn)
# fails with States.Runtime "'StateMachineArn'". Map them as LocalStack does.
def patch_integration_casing():
    import boto3
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service as sts

    base = sts.StateTaskService
    for name in ("_normalise_parameters", "_normalise_response", "_to_boto_request", "_from_boto_response"):
        if not hasattr(base, name):
            raise SystemExit(f"launcher: StateTaskService.{name} missing; re-check patch 5")
    session = boto3.session.Session()

    def operation(self, boto_service_name, service_action_name):
        service = self._get_boto_service_name(boto_service_name=boto_service_name)
        action = self._get_boto_service_action(service_action_name=service_action_name)
        model = session._session.get_service_model(service)
        for op in model.operation_names:
            if sts.camel_to_snake_case(op) == action:
                return model.operation_model(op)
        return None

    def normalise_parameters(self, parameters, boto_service_name=None, service_action_name=None):
        op = operation(self, boto_service_name, service_action_name)
        if op is not None and op.input_shape is not None:
            self._to_boto_request(parameters, op.input_shape)

    def normalise_response(self, response, boto_service_name=None, service_action_name=None):
        op = operation(self, boto_service_name, service_action_name)
        if op is not None and op.output_shape is not None:
            self._from_boto_response(response, op.output_shape)

    base._normalise_parameters = normalise_parameters
    base._normalise_response = normalise_response


# Patch 7 (found here): moto runs a Distributed Map's items inside the parent
# execution but gives them a fresh EventManager that nothing keeps, so their
# events vanish: no history shows what a batch's branch did. On AWS each item
# is a child execution with a history of its own (ListExecutions --map-run-arn);
# here the items' events go to the parent's history, as an inline Map's do, so
# the branch stays observable. Only where events are recorded changes.
_DISTRIBUTED_EVENTS_OLD = "env.event_manager = EventManager()"
_DISTRIBUTED_EVENTS_NEW = "pass  # launcher patch 7: keep the items' events in the parent's history"


def patch_distributed_map_history():
    import moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.distributed_iteration_component as dic

    cls = dic.DistributedIterationComponent
    source = textwrap.dedent(inspect.getsource(cls._eval_body))
    if source.count(_DISTRIBUTED_EVENTS_OLD) != 1:
        raise SystemExit("launcher: DistributedIterationComponent._eval_body changed; re-check patch 7")
    patched = source.replace(_DISTRIBUTED_EVENTS_OLD, _DISTRIBUTED_EVENTS_NEW)
    namespace = {}
    exec(compile(patched, "<launcher: patched distributed map events>", "exec"), vars(dic), namespace)
    cls._eval_body = namespace["_eval_body"]


# Patch 8 (found here): TimeoutSecondsPath and HeartbeatSecondsPath sample the
# top of moto's evaluation stack, which is the state's input on a first attempt
# but something else on a retried one (after Lambda.Unknown, say), so a retried
# wait fails with States.Runtime "Invalid path '$.deadline.timeoutSeconds'". On
# AWS both paths read the state's input: sample exactly that.
def patch_timeout_paths_read_input():
    from moto.stepfunctions.parser.asl.component.common.timeouts import timeout as tmod, heartbeat as hmod

    for cls in (tmod.TimeoutSecondsPath, hmod.HeartbeatSecondsPath):
        original = cls._eval_seconds
        if getattr(original, "_launcher_patched", False) or "string_sampler" not in getattr(cls, "__annotations__", {}):
            raise SystemExit(f"launcher: {cls.__name__} changed; re-check patch 8")

        def _eval_seconds(self, env, __original=original):
            env.stack.append(env.states.get_input())
            try:
                return __original(self, env)
            finally:
                env.stack.pop()

        _eval_seconds._launcher_patched = True
        cls._eval_seconds = _eval_seconds


# Patch 9 (found here): moto's ASL grammar takes ToleratedFailurePercentage
# only as a decimal literal ("100.0"); the integer AWS accepts ("100") is refused
# with ASLParserException. Give the parser the same number as a decimal; the
# stored definition is unchanged.
_PERCENTAGE_INT = None


def patch_tolerated_percentage_integer():
    import re
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    global _PERCENTAGE_INT
    original = AmazonStateLanguageParser.__dict__.get("parse")
    if not isinstance(original, staticmethod) or getattr(original.__func__, "_launcher_patched", False):
        raise SystemExit("launcher: AmazonStateLanguageParser.parse changed; re-check patch 9")
    _PERCENTAGE_INT = re.compile(r'("ToleratedFailurePercentage"\s*:\s*\d+)(?![\d.eE])')
    parse = original.__func__

    def patched(definition):
        return parse(_PERCENTAGE_INT.sub(r"\1.0", definition))

    patched._launcher_patched = True
    AmazonStateLanguageParser.parse = staticmethod(patched)


# Patch 10 (for the local IAM enforcement, local/internal/iam): the interpreter
# signs every call it makes (Lambda invokes, S3, EventBridge, Step Functions
# integrations) with one access key, "ak", whatever the state machine's role.
# On AWS those calls run with the execution's role: sign them with
# "role-<role name>" so the local AWS endpoint can hold each machine to the
# policies template.yaml gives its role.
_ROLE_KEY_OLD = 'aws_access_key_id="ak",'
_ROLE_KEY_NEW = "aws_access_key_id=_launcher_role_key(state_credentials),"


def patch_role_credentials():
    from moto.stepfunctions.parser.asl.utils import boto_client as bc

    source = textwrap.dedent(inspect.getsource(bc.boto_client_for))
    if source.count(_ROLE_KEY_OLD) != 1 or "state_credentials" not in source:
        raise SystemExit("launcher: boto_client_for changed; re-check patch 10")

    def _launcher_role_key(state_credentials):
        role_arn = getattr(state_credentials, "role_arn", None)
        return "role-" + role_arn.rsplit("/", 1)[-1] if role_arn else "ak"

    bc._launcher_role_key = _launcher_role_key
    namespace = {}
    exec(compile(source.replace(_ROLE_KEY_OLD, _ROLE_KEY_NEW), "<launcher: patched boto_client_for>", "exec"), vars(bc), namespace)
    # Every module imported the function object itself: give it the new code.
    bc.boto_client_for.__code__ = namespace["boto_client_for"].__code__


def main():
    if len(sys.argv) != 2:
        raise SystemExit("usage: launcher.py PORT")
    port = sys.argv[1]
    patch_state_machine_deepcopy()
    patch_execution_default_name()
    patch_transact_write_snapshot()
    patch_callback_answered_before_wait()
    patch_dynamodb_serialise()
    patch_integration_casing()
    patch_distributed_map_history()
    patch_timeout_paths_read_input()
    patch_role_credentials()
    patch_tolerated_percentage_integer()
    __import__("runpy").run_path(os.path.join(os.path.dirname(os.path.abspath(__file__)), "itemreader.py"))["apply"]()  # patch 11
    strict = os.environ.get("MOTO_STRICT", "1") != "0"
    if strict:
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import strict as strict_mode

        strict_mode.apply()
    print(f"launcher: moto patched; Step Functions strict mode {'on' if strict else 'OFF (MOTO_STRICT=0)'}", file=sys.stderr, flush=True)

    from moto.server import main as moto_main

    # main(argv) parses -H/--host and -p/--port; MOTO_PORT (the Lambda front's
    # port) comes from our environment and is left alone because it is set.
    moto_main(["-H", "127.0.0.1", "-p", port])


if __name__ == "__main__":
    main()
