// The chaoslab container app: one replica = two containers sharing localhost.
//  - app:     Spin (spin up --listen 0.0.0.0:3000, set by the image built from
//             deploy/docker/Dockerfile.app) with the Wasm components; ingress
//             target. Components reach the sidecar on 127.0.0.1:7070.
//  - sidecar: native chaoslab-sidecar (Redis with Entra ID, chaos engine,
//             telemetry). It listens on 0.0.0.0:7070 so the platform's probes
//             (sent to the replica's IP, not to loopback) can reach /livez and
//             /readyz; ingress never targets 7070, and the link API is guarded
//             by the link token both containers share.
//
// Probes (platform ranges: initialDelaySeconds 1-60, periodSeconds 1-240,
// timeoutSeconds 1-240, failureThreshold 1-10, successThreshold 1 for
// liveness/startup):
//  - liveness never depends on Redis, so a Redis outage (network-block
//    scenario) makes replicas unready but never restarts them:
//      app     -> TCP 3000 (the Spin listener is up),
//      sidecar -> GET /livez on 7070 (process alive, no Redis call).
//    A hang (POST /chaos/hang) stops /livez answering: after 3 failures
//    10 s apart (5 s timeout each) the sidecar container is restarted and the
//    hang, held by the sidecar's chaos engine, dies with it.
//  - readiness depends on Redis: app GET /health (answers 503 within 1 s when
//    Redis is unreachable) and sidecar GET /readyz.

@description('Azure region.')
param location string

@description('Name prefix shared by all resources.')
param prefix string

param environmentId string
param identityId string
param identityClientId string
param registryLoginServer string

@description('Image of the app container (Spin + spin.toml + components).')
param appImage string

@description('Image of the sidecar container (chaoslab binary).')
param sidecarImage string

@description('Redis host name (private endpoint, TLS port 10000).')
param redisHost string

param redisPort int = 10000

@description('Application Insights component whose connection string the sidecar exports to.')
param appInsightsName string

@secure()
@description('Bearer token for /chaos/* routes.')
param chaosToken string

@secure()
@description('Shared secret between the app and sidecar containers.')
param linkToken string

@minValue(0)
@maxValue(30)
param minReplicas int = 1

@minValue(1)
@maxValue(30)
param maxReplicas int = 5

@description('Concurrent HTTP requests per replica before another replica is added.')
@minValue(1)
param concurrentRequests int = 20

param tags object = {}

var appPort = 3000
var sidecarPort = 7070

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource app 'Microsoft.App/containerApps@2025-07-01' = {
  name: '${prefix}-app'
  location: location
  tags: tags
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    environmentId: environmentId
    workloadProfileName: 'Consumption'
    configuration: {
      activeRevisionsMode: 'Single'
      maxInactiveRevisions: 5
      ingress: {
        external: true
        targetPort: appPort
        transport: 'http'
        allowInsecure: false
        traffic: [
          {
            latestRevision: true
            weight: 100
          }
        ]
      }
      registries: [
        {
          server: registryLoginServer
          identity: identityId
        }
      ]
      secrets: [
        {
          name: 'chaos-token'
          value: chaosToken
        }
        {
          name: 'link-token'
          value: linkToken
        }
        {
          name: 'appinsights-connection-string'
          value: appInsights.properties.ConnectionString
        }
      ]
    }
    template: {
      containers: [
        {
          name: 'app'
          image: appImage
          resources: {
            cpu: json('0.5')
            memory: '1Gi'
          }
          env: [
            {
              name: 'SPIN_VARIABLE_SIDECAR_URL'
              value: 'http://127.0.0.1:${sidecarPort}'
            }
            {
              // Read by the sidecar-link bridge under Spin (spin.toml variable link_token).
              name: 'SPIN_VARIABLE_LINK_TOKEN'
              secretRef: 'link-token'
            }
            {
              // Read by the alternative image (Dockerfile.chaoslab: chaoslab up --link loopback).
              name: 'CHAOSLAB_LINK_TOKEN'
              secretRef: 'link-token'
            }
          ]
          probes: [
            {
              type: 'Startup'
              tcpSocket: {
                port: appPort
              }
              initialDelaySeconds: 1
              periodSeconds: 2
              timeoutSeconds: 2
              failureThreshold: 10
            }
            {
              type: 'Liveness'
              tcpSocket: {
                port: appPort
              }
              initialDelaySeconds: 5
              periodSeconds: 10
              timeoutSeconds: 3
              failureThreshold: 3
              successThreshold: 1
            }
            {
              type: 'Readiness'
              httpGet: {
                path: '/health'
                port: appPort
                scheme: 'HTTP'
              }
              initialDelaySeconds: 3
              periodSeconds: 5
              timeoutSeconds: 3
              failureThreshold: 3
              successThreshold: 1
            }
          ]
        }
        {
          name: 'sidecar'
          image: sidecarImage
          command: [
            'chaoslab-sidecar'
          ]
          args: [
            '--listen'
            '0.0.0.0:${sidecarPort}'
          ]
          resources: {
            cpu: json('0.25')
            memory: '0.5Gi'
          }
          env: [
            {
              name: 'CHAOSLAB_REDIS_URL'
              value: 'rediss://${redisHost}:${redisPort}'
            }
            {
              name: 'CHAOSLAB_REDIS_AUTH'
              value: 'entra'
            }
            {
              name: 'AZURE_CLIENT_ID'
              value: identityClientId
            }
            {
              name: 'APPLICATIONINSIGHTS_CONNECTION_STRING'
              secretRef: 'appinsights-connection-string'
            }
            {
              name: 'OTEL_SERVICE_NAME'
              value: 'chaoslab'
            }
            {
              name: 'CHAOSLAB_CHAOS_TOKEN'
              secretRef: 'chaos-token'
            }
            {
              name: 'CHAOSLAB_LINK_TOKEN'
              secretRef: 'link-token'
            }
          ]
          probes: [
            {
              type: 'Liveness'
              httpGet: {
                path: '/livez'
                port: sidecarPort
                scheme: 'HTTP'
              }
              initialDelaySeconds: 3
              periodSeconds: 10
              timeoutSeconds: 5
              failureThreshold: 3
              successThreshold: 1
            }
            {
              type: 'Readiness'
              httpGet: {
                path: '/readyz'
                port: sidecarPort
                scheme: 'HTTP'
              }
              initialDelaySeconds: 3
              periodSeconds: 5
              timeoutSeconds: 3
              failureThreshold: 3
              successThreshold: 1
            }
          ]
        }
      ]
      scale: {
        minReplicas: minReplicas
        maxReplicas: maxReplicas
        rules: [
          {
            name: 'http-concurrency'
            http: {
              metadata: {
                concurrentRequests: string(concurrentRequests)
              }
            }
          }
        ]
      }
    }
  }
}

output name string = app.name
output url string = 'https://${app.properties.configuration.ingress.fqdn}'
