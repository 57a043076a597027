"""Extensions of the in-process AWS emulator (moto) used by the sandbox and the tests, where
moto differs from AWS in ways this tool depends on. Nothing here is called against AWS.

Checked and needing no extension: moto 5.2.5 honours If-Match on PutObject and DeleteObject (a
stale ETag answers 412 PreconditionFailed, a missing key 404), which the apply lock's takeover
and release rely on; tests/test_lock_store.py pins it, in process and through the moto server."""
