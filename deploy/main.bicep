// Sealdrop on Azure: storage for the sealed files, the token endpoint as a
// Functions app with a system-assigned identity, and the app on Static Web
// Apps. Mirrored setting by setting in docs/DEPLOY.md ("The template").
// NOT COMPILED OR DEPLOYED by the project (no Azure tooling offline): run
// `az bicep build --file deploy/main.bicep` before the first deployment.

@description('Azure region for everything but the Static Web App.')
param location string = resourceGroup().location

@description('Region of the Static Web App (it exists in fewer regions).')
param appLocation string = 'westeurope'

@description('Short lowercase prefix for resource names, e.g. "sealdrop".')
@minLength(3)
@maxLength(11)
param prefix string = 'sealdrop'

@description('Entra tenant id (a GUID).')
param tenantId string = subscription().tenantId

@description('Application ID URI of the API app registration, e.g. api://<api client id>.')
param apiAudience string

@description('Origin of the app when it has a custom domain, e.g. https://files.example.org; empty = the Static Web App default host.')
param customAppOrigin string = ''

@description('Base64 of at least 32 random bytes (openssl rand -base64 32). Set once, never change.')
@secure()
param directoryKey string

@description('Verified e-mail domains of the tenant whose upn counts as an address, comma-separated.')
param trustedUpnDomains string = ''

var suffix = uniqueString(resourceGroup().id)
var dataAccountName = take('${prefix}data${suffix}', 24)
var hostAccountName = take('${prefix}host${suffix}', 24)
var appOrigin = empty(customAppOrigin) ? 'https://${app.properties.defaultHostname}' : customAppOrigin

// Built-in role ids.
var blobDataContributor = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
var blobDelegator = 'db58b8e5-c6ad-4a2a-8342-4190687cbf4a'
var tableDataContributor = '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
var blobDataOwner = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'

// ---- The app: Static Web App (deployed with its deployment token, see DEPLOY.md).
resource app 'Microsoft.Web/staticSites@2023-12-01' = {
  name: '${prefix}-app'
  location: appLocation
  sku: { name: 'Free', tier: 'Free' }
  properties: {}
}

// ---- Storage for the sealed files: no key, no public access, HTTPS/TLS 1.2 only.
resource data 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: dataAccountName
  location: location
  kind: 'StorageV2'
  sku: { name: 'Standard_ZRS' }
  properties: {
    supportsHttpsTrafficOnly: true
    minimumTlsVersion: 'TLS1_2'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowCrossTenantReplication: false
    publicNetworkAccess: 'Enabled'
  }
}

resource blobs 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: data
  name: 'default'
  properties: {
    cors: {
      corsRules: [
        {
          allowedOrigins: [appOrigin]
          allowedMethods: ['GET', 'PUT', 'DELETE', 'HEAD', 'OPTIONS']
          allowedHeaders: ['*']
          exposedHeaders: ['*']
          maxAgeInSeconds: 3600
        }
      ]
    }
  }
}

resource container 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobs
  name: 'sealdrop'
  properties: { publicAccess: 'None' }
}

resource tables 'Microsoft.Storage/storageAccounts/tableServices@2023-05-01' = {
  parent: data
  name: 'default'
}

resource rateLimits 'Microsoft.Storage/storageAccounts/tableServices/tables@2023-05-01' = {
  parent: tables
  name: 'sealdropratelimits'
}

// Share records and their index entries live at most 30 days (the longest
// link); a day's grace, then storage deletes them. Uncommitted blocks of
// abandoned uploads need no rule: Azure discards them after 7 days (rules
// only see committed blobs).
resource lifecycle 'Microsoft.Storage/storageAccounts/managementPolicies@2023-05-01' = {
  parent: data
  name: 'default'
  properties: {
    policy: {
      rules: [
        {
          name: 'expired-share-links'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: { blobTypes: ['blockBlob'], prefixMatch: ['sealdrop/shares/', 'sealdrop/share-index/'] }
            actions: { baseBlob: { delete: { daysAfterCreationGreaterThan: 31 } } }
          }
        }
      ]
    }
  }
}

// ---- The Functions host's own storage (deployment package, host state): identity only.
resource hostStorage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: hostAccountName
  location: location
  kind: 'StorageV2'
  sku: { name: 'Standard_LRS' }
  properties: {
    supportsHttpsTrafficOnly: true
    minimumTlsVersion: 'TLS1_2'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
  }
}

resource hostBlobs 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: hostStorage
  name: 'default'
}

resource deployments 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: hostBlobs
  name: 'deployments'
}

// ---- The token endpoint: Flex Consumption, Node 22, system-assigned identity.
resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: '${prefix}-plan'
  location: location
  kind: 'functionapp'
  sku: { tier: 'FlexConsumption', name: 'FC1' }
  properties: { reserved: true }
}

resource api 'Microsoft.Web/sites@2024-04-01' = {
  name: '${prefix}-api-${suffix}'
  location: location
  kind: 'functionapp,linux'
  identity: { type: 'SystemAssigned' }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${hostStorage.properties.primaryEndpoints.blob}deployments'
          authentication: { type: 'SystemAssignedIdentity' }
        }
      }
      scaleAndConcurrency: { maximumInstanceCount: 40, instanceMemoryMB: 2048 }
      runtime: { name: 'node', version: '22' }
    }
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      // No platform CORS: the endpoint answers CORS itself (SEALDROP_API_CORS_ORIGINS).
      cors: { allowedOrigins: [] }
      appSettings: [
        { name: 'AzureWebJobsStorage__accountName', value: hostStorage.name }
        { name: 'SEALDROP_STORAGE_MODE', value: 'userDelegation' }
        { name: 'SEALDROP_AZURE_IDENTITY', value: 'managed' }
        { name: 'SEALDROP_BLOB_ENDPOINT', value: data.properties.primaryEndpoints.blob }
        { name: 'SEALDROP_STORAGE_ACCOUNT', value: data.name }
        { name: 'SEALDROP_CONTAINER', value: 'sealdrop' }
        { name: 'SEALDROP_OIDC_ISSUER', value: 'https://login.microsoftonline.com/${tenantId}/v2.0' }
        { name: 'SEALDROP_API_AUDIENCE', value: apiAudience }
        { name: 'SEALDROP_API_SCOPE', value: '${apiAudience}/access_as_user' }
        { name: 'SEALDROP_USER_ID_SCHEME', value: 'entra' }
        { name: 'SEALDROP_API_CORS_ORIGINS', value: appOrigin }
        { name: 'SEALDROP_TRUST_PROXY', value: 'false' }
        { name: 'SEALDROP_RATE_LIMIT_STORE', value: 'table' }
        { name: 'SEALDROP_RATE_LIMIT_TABLE_ENDPOINT', value: data.properties.primaryEndpoints.table }
        { name: 'SEALDROP_RATE_LIMIT_TABLE', value: 'sealdropratelimits' }
        { name: 'SEALDROP_TRUSTED_UPN_DOMAINS', value: trustedUpnDomains }
        { name: 'SEALDROP_DIRECTORY_KEY', value: directoryKey }
      ]
    }
  }
}

// ---- Least roles for the endpoint's identity.
// Data account: read/write blobs of the one container; user delegation keys (account scope, that is where the action lives); the rate-limit table.
resource apiBlobData 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: container
  name: guid(container.id, api.id, blobDataContributor)
  properties: { principalId: api.identity.principalId, principalType: 'ServicePrincipal', roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', blobDataContributor) }
}

resource apiDelegator 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: data
  name: guid(data.id, api.id, blobDelegator)
  properties: { principalId: api.identity.principalId, principalType: 'ServicePrincipal', roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', blobDelegator) }
}

resource apiTable 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: rateLimits
  name: guid(rateLimits.id, api.id, tableDataContributor)
  properties: { principalId: api.identity.principalId, principalType: 'ServicePrincipal', roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', tableDataContributor) }
}

// Host account: the Functions runtime's own state and the deployment package.
resource apiHost 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  scope: hostStorage
  name: guid(hostStorage.id, api.id, blobDataOwner)
  properties: { principalId: api.identity.principalId, principalType: 'ServicePrincipal', roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', blobDataOwner) }
}

output appOrigin string = appOrigin
output apiBase string = 'https://${api.properties.defaultHostName}/api/v1'
output apiName string = api.name
output blobEndpoint string = data.properties.primaryEndpoints.blob
output staticWebAppName string = app.name
