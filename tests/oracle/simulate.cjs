// Reads a JSON array of simulations on stdin and prints a JSON array of decisions, one per
// simulation: "Allowed", "ExplicitlyDenied", "ImplicitlyDenied", or "error: ...".
//
// Each simulation: {principal: ARN or null (anonymous), action, resource, account (of the
// resource), identity: [policy documents], resource_policy: document or null, context: {key:
// value}, validated: optional, true to use the package's public runSimulation}. One process runs
// every case (the differential test batches them).
//
// The evaluator of @cloud-copilot/iam-simulate is called without its input validation: that
// validation drops context keys its service data does not list for the resource type, and it
// does not list the access point keys (s3:DataAccessPointAccount, ...) for bucket and object
// ARNs, which the bucket policy of a request through an access point does see (S3 User Guide,
// "Configuring IAM policies for using access points"). The package's own runUnsafeSimulation
// does the same but fails on resource policies (it loads them without metadata), so this script
// builds the same call with the metadata.
'use strict'

const path = require('node:path')
const { loadPolicy } = require('@cloud-copilot/iam-policy')
const simulate = require('@cloud-copilot/iam-simulate')

const dist = path.dirname(require.resolve('@cloud-copilot/iam-simulate'))
const { authorize } = require(path.join(dist, 'core_engine', 'CoreSimulatorEngine.js'))
const { AwsRequestImpl } = require(path.join(dist, 'request', 'request.js'))
const { RequestContextImpl } = require(path.join(dist, 'requestContext.js'))
const { DiscoveryContextKeyConstraints } = require(
  path.join(dist, 'context_keys', 'discoveryContextKeyConstraints.js')
)

function decide(sim) {
  const principal = sim.principal === null ? simulate.anonymousPrincipal : sim.principal
  const identity = sim.principal === null ? [] : sim.identity
  const request = new AwsRequestImpl(
    principal,
    { resource: sim.resource, accountId: sim.account },
    sim.action,
    new RequestContextImpl(sim.context)
  )
  const analysis = authorize({
    request,
    sessionPolicy: undefined,
    identityPolicies: identity.map((doc, i) => loadPolicy(doc, { name: `identity-${i}` })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: sim.resource_policy
      ? loadPolicy(sim.resource_policy, { name: 'resource' })
      : undefined,
    permissionBoundaries: undefined,
    vpcEndpointPolicies: undefined,
    simulationParameters: {
      simulationMode: 'Strict',
      discoveryContextKeyConstraints: new DiscoveryContextKeyConstraints([])
    },
    serviceSettings: { s3: { blockPublicAccess: undefined } }
  })
  return analysis.result
}

// The package's public, validated entry point, for the known-errors table
// (known_simulator_errors.md): it shows what a user of the package would get.
async function decideValidated(sim) {
  const result = await simulate.runSimulation(
    {
      request: {
        principal: sim.principal === null ? simulate.anonymousPrincipal : sim.principal,
        action: sim.action,
        resource: { resource: sim.resource, accountId: sim.account },
        contextVariables: sim.context
      },
      identityPolicies: (sim.principal === null ? [] : sim.identity).map((doc, i) => ({
        name: `identity-${i}`,
        policy: doc
      })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy: sim.resource_policy || undefined
    },
    {}
  )
  return result.resultType === 'error' ? `error: ${JSON.stringify(result.errors)}` : result.overallResult
}

async function main(input) {
  const out = []
  for (const sim of JSON.parse(input)) {
    try {
      out.push(sim.validated ? await decideValidated(sim) : decide(sim))
    } catch (err) {
      out.push(`error: ${err.message}`)
    }
  }
  process.stdout.write(JSON.stringify(out))
}

let input = ''
process.stdin.setEncoding('utf8')
process.stdin.on('data', (chunk) => (input += chunk))
process.stdin.on('end', () => main(input))
