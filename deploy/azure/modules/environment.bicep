// Container Apps environment (workload profiles, Consumption profile) on the
// VNet's aca-infra subnet, sending container and system logs to Log Analytics.

@description('Azure region.')
param location string

@description('Name prefix shared by all resources.')
param prefix string

@description('Delegated subnet of the environment (aca-infra).')
param infrastructureSubnetId string

@description('Log Analytics workspace that receives the logs.')
param workspaceName string

param tags object = {}

resource workspace 'Microsoft.OperationalInsights/workspaces@2025-07-01' existing = {
  name: workspaceName
}

resource environment 'Microsoft.App/managedEnvironments@2025-07-01' = {
  name: '${prefix}-env'
  location: location
  tags: tags
  properties: {
    vnetConfiguration: {
      infrastructureSubnetId: infrastructureSubnetId
      internal: false
    }
    workloadProfiles: [
      {
        name: 'Consumption'
        workloadProfileType: 'Consumption'
      }
    ]
    appLogsConfiguration: {
      destination: 'log-analytics'
      logAnalyticsConfiguration: {
        customerId: workspace.properties.customerId
        // Read here, never passed through a parameter or an output.
        sharedKey: workspace.listKeys().primarySharedKey
      }
    }
    zoneRedundant: false
  }
}

output environmentId string = environment.id
