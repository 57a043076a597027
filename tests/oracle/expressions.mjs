// Evaluates GitHub Actions expressions with GitHub's own evaluator (@actions/expressions, from
// actions/languageservices), for tests/test_workflow_triggers.py.
// stdin: [{"expr": "...", "contexts": {"github": {...}, "needs": {...}}, "status": "success"}]
// stdout: [{"value": <JSON>, "truthy": bool} | {"error": "..."}], one per expression.
// The status functions (success(), failure(), cancelled(), always()) are the runner's, not the
// language's: they answer as a run in the given status would.
import { readFileSync } from 'node:fs';
import { Lexer, Parser, Evaluator, data } from '@actions/expressions';
import { truthy } from '@actions/expressions/result';

const STATUS = ['success', 'failure', 'cancelled', 'always'];

function evaluate({ expr, contexts, status = 'success' }) {
  const text = expr.trim().replace(/^\$\{\{([\s\S]*)\}\}$/, '$1');
  const functions = new Map(STATUS.map((name) => [name, {
    name, minArgs: 0, maxArgs: 0,
    call: () => new data.BooleanData(name === 'always' || name === status),
  }]));
  const lexed = new Lexer(text).lex();
  const parsed = new Parser(lexed.tokens, Object.keys(contexts), [...functions.values()]).parse();
  const context = JSON.parse(JSON.stringify(contexts), data.reviver);
  const result = new Evaluator(parsed, context, functions).evaluate();
  return { value: JSON.parse(JSON.stringify(result, data.replacer)), truthy: truthy(result) };
}

const requests = JSON.parse(readFileSync(0, 'utf8'));
process.stdout.write(JSON.stringify(requests.map((request) => {
  try {
    return evaluate(request);
  } catch (err) {
    return { error: String(err && err.message ? err.message : err) };
  }
})));
