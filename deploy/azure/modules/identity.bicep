// User-assigned managed identity used by the container app for two things:
// pulling images from the registry (AcrPull) and the Entra ID token for Azure
// Managed Redis (see redis.bicep, access policy assignment).

@description('Azure region.')
param location string

@description('Name prefix shared by all resources.')
param prefix string

@description('Globally unique registry name (5-50 letters and digits).')
@minLength(5)
@maxLength(50)
param registryName string

param tags object = {}

// Built-in role "AcrPull".
var acrPullRoleId = '7f951dda-4ed3-4680-a7ca-43fe172d538d'

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: '${prefix}-id'
  location: location
  tags: tags
}

resource registry 'Microsoft.ContainerRegistry/registries@2023-07-01' = {
  name: registryName
  location: location
  tags: tags
  sku: {
    name: 'Basic'
  }
  properties: {
    adminUserEnabled: false
    anonymousPullEnabled: false
  }
}

resource acrPull 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(registry.id, identity.id, acrPullRoleId)
  scope: registry
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', acrPullRoleId)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

output identityId string = identity.id
output clientId string = identity.properties.clientId
output principalId string = identity.properties.principalId
output registryName string = registry.name
output registryLoginServer string = registry.properties.loginServer
