// chaoslab on Azure Container Apps with Azure Managed Redis.
//
// Deploy in two phases (deploy/azure/deploy.sh does both):
//  1. without appImage/sidecarImage: monitoring, network, identity + registry,
//     Redis, Container Apps environment;
//  2. after the images are in the registry: the same command with both images,
//     which adds the container app.
// Secrets (chaosToken, linkToken) are @secure() parameters: pass them on the
// command line or from a key vault, never in main.parameters.json.

targetScope = 'resourceGroup'

@description('Azure region; defaults to the resource group\'s.')
param location string = resourceGroup().location

@description('Name prefix shared by all resources (letters, digits, dashes).')
@minLength(3)
@maxLength(20)
param prefix string = 'chaoslab'

@description('Image of the app container; empty = infrastructure only (phase 1).')
param appImage string = ''

@description('Image of the sidecar container; empty = infrastructure only (phase 1).')
param sidecarImage string = ''

@secure()
@description('Bearer token for /chaos/* routes.')
param chaosToken string

@secure()
@description('Shared secret between the app and sidecar containers; fresh per deployment unless given.')
param linkToken string = newGuid()

@description('Azure Managed Redis SKU.')
param redisSkuName string = 'Balanced_B0'

@minValue(0)
@maxValue(30)
param minReplicas int = 1

@minValue(1)
@maxValue(30)
param maxReplicas int = 5

@minValue(1)
param concurrentRequests int = 20

param tags object = {
  project: 'chaoslab'
}

var suffix = uniqueString(resourceGroup().id)
var deployApp = !empty(appImage) && !empty(sidecarImage)

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    location: location
    prefix: prefix
    tags: tags
  }
}

module network 'modules/network.bicep' = {
  name: 'network'
  params: {
    location: location
    prefix: prefix
    tags: tags
  }
}

module identity 'modules/identity.bicep' = {
  name: 'identity'
  params: {
    location: location
    prefix: prefix
    registryName: take('${replace(prefix, '-', '')}${suffix}', 50)
    tags: tags
  }
}

module redis 'modules/redis.bicep' = {
  name: 'redis'
  params: {
    location: location
    name: '${prefix}-${suffix}'
    skuName: redisSkuName
    principalId: identity.outputs.principalId
    privateEndpointSubnetId: network.outputs.privateEndpointSubnetId
    vnetId: network.outputs.vnetId
    tags: tags
  }
}

module environment 'modules/environment.bicep' = {
  name: 'environment'
  params: {
    location: location
    prefix: prefix
    infrastructureSubnetId: network.outputs.acaSubnetId
    workspaceName: monitoring.outputs.workspaceName
    tags: tags
  }
}

module app 'modules/app.bicep' = if (deployApp) {
  name: 'app'
  params: {
    location: location
    prefix: prefix
    environmentId: environment.outputs.environmentId
    identityId: identity.outputs.identityId
    identityClientId: identity.outputs.clientId
    registryLoginServer: identity.outputs.registryLoginServer
    appImage: appImage
    sidecarImage: sidecarImage
    redisHost: redis.outputs.hostName
    redisPort: redis.outputs.port
    appInsightsName: monitoring.outputs.appInsightsName
    chaosToken: chaosToken
    linkToken: linkToken
    minReplicas: minReplicas
    maxReplicas: maxReplicas
    concurrentRequests: concurrentRequests
    tags: tags
  }
}

@description('Public URL of the app (empty in phase 1).')
output appUrl string = deployApp ? app!.outputs.url : ''

@description('Container app name (used by the scenario scripts).')
output appName string = '${prefix}-app'

output redisHost string = redis.outputs.hostName
output appInsightsName string = monitoring.outputs.appInsightsName
output workspaceName string = monitoring.outputs.workspaceName
output nsgName string = network.outputs.nsgName
output acaSubnetPrefix string = network.outputs.acaSubnetPrefix
output privateEndpointSubnetPrefix string = network.outputs.privateEndpointSubnetPrefix
output registryName string = identity.outputs.registryName
output registryLoginServer string = identity.outputs.registryLoginServer
