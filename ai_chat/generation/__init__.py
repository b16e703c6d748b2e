"""One generation, start to end, apart from any socket.

`generation_run` (run.py) streams a prepared `GenerationJob` (job.py) from an agent, publishes
its frames to a `StreamHub`, validates the result (asking again when it fails), records the end
through the job's recorder (recording.py) and publishes exactly one final frame. It is a plain
coroutine: a consumer's runner (runner.py), a management command and a Celery worker all call it.
"""
