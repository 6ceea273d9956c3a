// VNet with two subnets:
//  - aca-infra: the Container Apps environment (workload profiles need a
//    subnet delegated to Microsoft.App/environments, /27 or larger);
//  - private-endpoints: the Azure Managed Redis private endpoint.
// The NSG on aca-infra starts with no custom rule: the network-block scenario
// (deploy/scenarios/network-block.sh) adds and removes its deny rule there.
// Redeploying this template removes any rule left behind.

@description('Azure region.')
param location string

@description('Name prefix shared by all resources.')
param prefix string

@description('VNet address space.')
param addressPrefix string = '10.40.0.0/16'

@description('Subnet of the Container Apps environment.')
param acaSubnetPrefix string = '10.40.0.0/23'

@description('Subnet of the private endpoints.')
param privateEndpointSubnetPrefix string = '10.40.2.0/27'

param tags object = {}

resource acaNsg 'Microsoft.Network/networkSecurityGroups@2024-05-01' = {
  name: '${prefix}-aca-nsg'
  location: location
  tags: tags
  properties: {
    securityRules: []
  }
}

resource vnet 'Microsoft.Network/virtualNetworks@2024-05-01' = {
  name: '${prefix}-vnet'
  location: location
  tags: tags
  properties: {
    addressSpace: {
      addressPrefixes: [
        addressPrefix
      ]
    }
    subnets: [
      {
        name: 'aca-infra'
        properties: {
          addressPrefix: acaSubnetPrefix
          networkSecurityGroup: {
            id: acaNsg.id
          }
          delegations: [
            {
              name: 'aca'
              properties: {
                serviceName: 'Microsoft.App/environments'
              }
            }
          ]
        }
      }
      {
        name: 'private-endpoints'
        properties: {
          addressPrefix: privateEndpointSubnetPrefix
          privateEndpointNetworkPolicies: 'Disabled'
        }
      }
    ]
  }
}

output vnetId string = vnet.id
output acaSubnetId string = vnet.properties.subnets[0].id
output privateEndpointSubnetId string = vnet.properties.subnets[1].id
output nsgName string = acaNsg.name
output acaSubnetPrefix string = acaSubnetPrefix
output privateEndpointSubnetPrefix string = privateEndpointSubnetPrefix
