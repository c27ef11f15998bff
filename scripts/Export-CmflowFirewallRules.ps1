<#
.SYNOPSIS
    Writes a computer's (or a GPO's) Windows Firewall rules as cmflow's
    netfirewallrule-json.

.DESCRIPTION
    Reads every rule of Get-NetFirewallRule in one policy store, with the data of its
    port, address, application, service, interface, interface type and security
    filters, and the default actions of Get-NetFirewallProfile, and writes them as one
    UTF-8 JSON file that a `windows-firewall source="..." format="netfirewallrule-json"`
    node of a cmflow model reads. The shape is documented in
    docs/sources/netfirewallrule-json.md.

    Enum values (Direction, Action, Enabled, Profile...) are written as ConvertTo-Json
    writes them: numbers. cmflow reads numbers and names alike.

    Runs on Windows PowerShell 5.1 and PowerShell 7 with the NetSecurity module. It only
    reads: it changes nothing on the computer or in the GPO.

.PARAMETER PolicyStore
    ActiveStore (default): the rules in force, local and Group Policy merged.
    PersistentStore: the computer's own rules.
    DOMAIN\GPO-NAME (for example 'contoso.com\CM - Site systems'): the rules of a
    Group Policy Object, read from the domain (needs read access to the GPO).

.PARAMETER Path
    The JSON file to write (default: COMPUTERNAME.json in the current folder).

.EXAMPLE
    .\Export-CmflowFirewallRules.ps1 -Path .\exports\dp01.json

    The rules in force on this computer.

.EXAMPLE
    .\Export-CmflowFirewallRules.ps1 -PolicyStore 'contoso.com\CM - Site systems' -Path .\exports\site-systems.json

    The rules of a GPO, as every computer it applies to receives them.
#>
[CmdletBinding()]
param(
    [string]$PolicyStore = 'ActiveStore',
    [string]$Path = "$env:COMPUTERNAME.json"
)

$ErrorActionPreference = 'Stop'

# Each filter cmdlet is run once for the whole store and its objects matched to the rules
# by InstanceID (a filter has its rule's InstanceID): piping each rule to six cmdlets
# takes minutes on a computer with a thousand rules.
function Get-FilterIndex([scriptblock]$Query) {
    $index = @{}
    foreach ($filter in & $Query) { $index[$filter.InstanceID] = $filter }
    $index
}

$ports = Get-FilterIndex { Get-NetFirewallPortFilter -All -PolicyStore $PolicyStore }
$addresses = Get-FilterIndex { Get-NetFirewallAddressFilter -All -PolicyStore $PolicyStore }
$applications = Get-FilterIndex { Get-NetFirewallApplicationFilter -All -PolicyStore $PolicyStore }
$services = Get-FilterIndex { Get-NetFirewallServiceFilter -All -PolicyStore $PolicyStore }
$interfaces = Get-FilterIndex { Get-NetFirewallInterfaceFilter -All -PolicyStore $PolicyStore }
$interfaceTypes = Get-FilterIndex { Get-NetFirewallInterfaceTypeFilter -All -PolicyStore $PolicyStore }
$security = Get-FilterIndex { Get-NetFirewallSecurityFilter -All -PolicyStore $PolicyStore }

$rules = foreach ($rule in Get-NetFirewallRule -All -PolicyStore $PolicyStore) {
    $id = $rule.InstanceID
    $port = $ports[$id]
    $address = $addresses[$id]
    $application = $applications[$id]
    $sec = $security[$id]
    [ordered]@{
        Name                  = $rule.Name
        DisplayName           = $rule.DisplayName
        Group                 = $rule.Group
        Enabled               = $rule.Enabled
        Profile               = $rule.Profile
        Direction             = $rule.Direction
        Action                = $rule.Action
        EdgeTraversalPolicy   = $rule.EdgeTraversalPolicy
        PolicyStoreSourceType = $rule.PolicyStoreSourceType
        PortFilter            = [ordered]@{
            Protocol      = $port.Protocol
            LocalPort     = $port.LocalPort
            RemotePort    = $port.RemotePort
            IcmpType      = $port.IcmpType
            DynamicTarget = $port.DynamicTarget
        }
        AddressFilter         = [ordered]@{
            LocalAddress  = $address.LocalAddress
            RemoteAddress = $address.RemoteAddress
        }
        ApplicationFilter     = [ordered]@{
            Program = $application.Program
            Package = $application.Package
        }
        ServiceFilter         = [ordered]@{ Service = $services[$id].Service }
        InterfaceFilter       = [ordered]@{ InterfaceAlias = $interfaces[$id].InterfaceAlias }
        InterfaceTypeFilter   = [ordered]@{ InterfaceType = $interfaceTypes[$id].InterfaceType }
        SecurityFilter        = [ordered]@{
            Authentication = $sec.Authentication
            Encryption     = $sec.Encryption
            RemoteUser     = $sec.RemoteUser
            RemoteMachine  = $sec.RemoteMachine
            LocalUser      = $sec.LocalUser
        }
    }
}

$profiles = foreach ($p in Get-NetFirewallProfile -All -PolicyStore $PolicyStore) {
    [ordered]@{
        Name                  = $p.Name
        Enabled               = $p.Enabled
        DefaultInboundAction  = $p.DefaultInboundAction
        DefaultOutboundAction = $p.DefaultOutboundAction
    }
}

$export = [ordered]@{
    Schema       = 'cmflow-netfirewallrule/1'
    ComputerName = [System.Net.Dns]::GetHostEntry([System.Net.Dns]::GetHostName()).HostName
    PolicyStore  = $PolicyStore
    ExportedAt   = (Get-Date).ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ssZ')
    Profiles     = @($profiles)
    Rules        = @($rules)
}

# Depth 5 reaches the filters' arrays (export > Rules > rule > filter > array); 8 leaves
# room. UTF8 writes a BOM in Windows PowerShell 5.1, which cmflow accepts.
$export | ConvertTo-Json -Depth 8 | Set-Content -Path $Path -Encoding UTF8
Write-Verbose "cmflow: $(@($rules).Count) rules from $PolicyStore written to $Path"
