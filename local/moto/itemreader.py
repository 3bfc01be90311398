"""Distributed Map ItemReader over S3 ListObjectsV2, as AWS runs it (patch 11).

Loaded by launcher.py. moto 5.2.1's reader (ResourceEvalS3._handle_list_objects_v2)
differs from AWS in three ways the import workflow (statemachine/import.asl.json)
meets:

- it reads one page (1,000 keys) and drops the rest; AWS lists every object
  under the prefix;
- a prefix with no object raises KeyError ("Contents") and fails the state with
  States.Runtime; AWS runs the Map over no items;
- items are boto3's dicts ("ETag", LastModified a datetime, ChecksumAlgorithm...);
  AWS hands each item as {"Etag", "Key", "LastModified" (epoch seconds), "Size",
  "StorageClass"}.

Like every launcher patch, it checks that the code it replaces still looks as
expected and aborts otherwise.
"""

import inspect
import textwrap

_EXPECTED = ['response = s3_client.list_objects_v2(**parameters)', 'contents = response["Contents"]', "env.stack.append(contents)"]


def apply():
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.item_reader.eval import resource_eval_s3 as mod

    cls = mod.ResourceEvalS3
    original = cls.__dict__.get("_handle_list_objects_v2")
    source = textwrap.dedent(inspect.getsource(original.__func__ if isinstance(original, staticmethod) else original))
    if not isinstance(original, staticmethod) or any(line not in source for line in _EXPECTED):
        raise SystemExit("launcher: ResourceEvalS3._handle_list_objects_v2 changed; re-check patch 11 (itemreader.py)")

    def _handle_list_objects_v2(env, resource_runtime_part, state_credentials):
        s3_client = cls._get_s3_client(resource_runtime_part=resource_runtime_part, state_credentials=state_credentials)
        parameters = dict(env.stack.pop())
        items = []
        while True:
            response = s3_client.list_objects_v2(**parameters)
            for obj in response.get("Contents", []):
                items.append(
                    {
                        "Etag": obj.get("ETag"),
                        "Key": obj["Key"],
                        "LastModified": int(obj["LastModified"].timestamp()),
                        "Size": obj.get("Size", 0),
                        "StorageClass": obj.get("StorageClass", "STANDARD"),
                    }
                )
            if not response.get("IsTruncated"):
                break
            parameters["ContinuationToken"] = response["NextContinuationToken"]
        env.stack.append(items)

    cls._handle_list_objects_v2 = staticmethod(_handle_list_objects_v2)
