"""Extensions of the in-process AWS emulator (moto) used by the sandbox and the tests, where
moto differs from AWS in ways this tool depends on. Nothing here is called against AWS."""
