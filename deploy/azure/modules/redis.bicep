// Azure Managed Redis reachable only through a private endpoint, with Entra ID
// authentication (no access keys).
//  - clusteringPolicy EnterpriseCluster: one endpoint, so the sidecar's
//    non-cluster client (ConnectionManager) works unchanged;
//  - clientProtocol Encrypted on port 10000: the sidecar connects with
//    rediss://<host>:10000;
//  - the identity gets the built-in "default" access policy; its Redis user
//    name is the identity's object id.

@description('Azure region.')
param location string

@description('Globally unique cache name (it becomes <name>.<region>.redis.azure.net).')
param name string

@description('Azure Managed Redis SKU.')
param skuName string = 'Balanced_B0'

@description('Object (principal) id of the managed identity that may use the database.')
param principalId string

@description('Subnet that holds the private endpoint.')
param privateEndpointSubnetId string

@description('VNet linked to the private DNS zone.')
param vnetId string

param tags object = {}

resource cluster 'Microsoft.Cache/redisEnterprise@2025-07-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: skuName
  }
  properties: {
    minimumTlsVersion: '1.2'
    publicNetworkAccess: 'Disabled'
    highAvailability: 'Enabled'
  }
}

resource database 'Microsoft.Cache/redisEnterprise/databases@2025-07-01' = {
  parent: cluster
  name: 'default'
  properties: {
    clientProtocol: 'Encrypted'
    port: 10000
    clusteringPolicy: 'EnterpriseCluster'
    evictionPolicy: 'NoEviction'
    accessKeysAuthentication: 'Disabled'
  }
}

// The assignment name must match ^[A-Za-z0-9]{1,60}$: the object id without
// its dashes (32 hex digits) is unique per identity and fits.
resource accessPolicy 'Microsoft.Cache/redisEnterprise/databases/accessPolicyAssignments@2025-07-01' = {
  parent: database
  name: replace(principalId, '-', '')
  properties: {
    accessPolicyName: 'default'
    user: {
      objectId: principalId
    }
  }
}

resource dnsZone 'Microsoft.Network/privateDnsZones@2024-06-01' = {
  name: 'privatelink.redis.azure.net'
  location: 'global'
  tags: tags
}

resource dnsLink 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2024-06-01' = {
  parent: dnsZone
  name: 'redis-vnet-link'
  location: 'global'
  properties: {
    registrationEnabled: false
    virtualNetwork: {
      id: vnetId
    }
  }
}

resource privateEndpoint 'Microsoft.Network/privateEndpoints@2024-05-01' = {
  name: '${name}-pe'
  location: location
  tags: tags
  properties: {
    subnet: {
      id: privateEndpointSubnetId
    }
    privateLinkServiceConnections: [
      {
        name: 'redis'
        properties: {
          privateLinkServiceId: cluster.id
          groupIds: [
            'redisEnterprise'
          ]
        }
      }
    ]
  }
}

resource dnsGroup 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2024-05-01' = {
  parent: privateEndpoint
  name: 'default'
  properties: {
    privateDnsZoneConfigs: [
      {
        name: 'redis'
        properties: {
          privateDnsZoneId: dnsZone.id
        }
      }
    ]
  }
}

output hostName string = cluster.properties.hostName
output port int = database.properties.port
