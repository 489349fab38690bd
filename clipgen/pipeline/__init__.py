"""The clip pipeline: pure functions over files and dataclasses.

No database and no Reflex here: the CLI, the workers and the tests all call
`clipgen.pipeline.run.generate_clips` (or single stages) the same way.
"""
