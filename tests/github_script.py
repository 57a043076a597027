"""Runs an actions/github-script step's script under Node.js against a fake GitHub API, with
the step's environment, and returns the API calls, outputs and summary it made."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

HARNESS = """
const fs = require('fs');
const state = JSON.parse(fs.readFileSync('state.json', 'utf8'));
const calls = [];
const outputs = {};
let summary = '';
const record = (name) => async (params) => { calls.push([name, params]); return { data: {} }; };
const github = {
  paginate: async (method, params) => { calls.push([method, params]); return state[method] || []; },
  rest: {
    issues: {
      listComments: 'listComments',
      listForRepo: 'listForRepo',
      updateComment: record('updateComment'),
      createComment: record('createComment'),
      create: record('create'),
      update: record('update'),
    },
    repos: {
      listPullRequestsAssociatedWithCommit: async (params) => {
        calls.push(['listPullRequestsAssociatedWithCommit', params]);
        return { data: state.pulls || [] };
      },
    },
  },
};
const core = {
  setOutput: (name, value) => { outputs[name] = value; },
  summary: { addRaw(text) { summary += text; return this; }, async write() { return this; } },
};
const context = Object.assign({
  repo: { owner: 'org', repo: 'share' }, serverUrl: 'https://github.com', runId: 42,
}, state.context);
const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor;
const script = fs.readFileSync('script.js', 'utf8');
new AsyncFunction('require', 'github', 'context', 'core', script)(require, github, context, core)
  .then(() => process.stdout.write(JSON.stringify({ calls, outputs, summary })));
"""


def run_script(
    folder: Path,
    script: str,
    *,
    context: dict[str, Any],
    env: dict[str, str] | None = None,
    **state: Any,
) -> dict[str, Any]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (GitHub's runners have it)")
    (folder / "script.js").write_text(script)
    (folder / "harness.js").write_text(HARNESS)
    (folder / "state.json").write_text(json.dumps({"context": context, **state}))
    result = subprocess.run(
        [node, "harness.js"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", **(env or {})},
    )
    assert result.returncode == 0, result.stderr
    done: dict[str, Any] = json.loads(result.stdout)
    return done
