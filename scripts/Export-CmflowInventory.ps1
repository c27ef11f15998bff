<#
.SYNOPSIS
    Writes the ConfigMgr inventory that `cmflow import configmgr` reads.

.DESCRIPTION
    Reads the site configuration of a Configuration Manager hierarchy from the SMS
    Provider's WMI namespace (root\SMS\site_<code>) and writes one JSON document:

        { "cmflow-inventory": 1, "SMS_Site": [...], "SMS_SCI_SiteDefinition": [...], ... }

    Each key is a WMI class; each object keeps the class's property names. The classes:
    SMS_Site, SMS_SCI_SiteDefinition, SMS_SCI_SysResUse (site system roles),
    SMS_SCI_Component (the management point component's client request ports),
    SMS_Boundary, SMS_BoundaryGroup, SMS_BoundaryGroupMembers,
    SMS_BoundaryGroupSiteSystems and SMS_BoundaryGroupRelationships. The embedded
    properties (Props, PropLists) are reduced to the ones cmflow reads, unless
    -AllProperties is given. Nothing is changed on the site.

    Run it against the SMS Provider of the top-level site (the central administration
    site, or a stand-alone primary): its site control data covers the whole hierarchy.
    The account needs read access to the SMS Provider (for example the Read-only Analyst
    security role). Then, anywhere cmflow runs:

        cmflow import configmgr cmflow-inventory.json --out model

    The document's fields and how cmflow maps them: docs/import-configmgr.md.

.PARAMETER SiteServer
    The SMS Provider server. Default: this computer.

.PARAMETER SiteCode
    The site code of the SMS Provider's site. Default: read from root\SMS
    (SMS_ProviderLocation).

.PARAMETER OutFile
    The JSON file to write (UTF-8 without byte-order mark). Default:
    .\cmflow-inventory.json.

.PARAMETER AllProperties
    Write every embedded property of the SMS_SCI_* classes, not only the ones cmflow
    reads (they may hold account names: review the file before you share it).

.EXAMPLE
    .\Export-CmflowInventory.ps1
    On the site server of the central administration site.

.EXAMPLE
    .\Export-CmflowInventory.ps1 -SiteServer cm-cas01.contoso.com -SiteCode CAS -OutFile C:\temp\contoso.json

.NOTES
    Windows PowerShell 5.1 or PowerShell 7; uses Get-CimInstance (WinRM to a remote
    provider). Inventory format version 1.
#>
[CmdletBinding()]
param(
    [string] $SiteServer = $env:COMPUTERNAME,
    [ValidatePattern('^[A-Za-z0-9]{3}$')]
    [string] $SiteCode,
    [string] $OutFile = (Join-Path -Path (Get-Location) -ChildPath 'cmflow-inventory.json'),
    [switch] $AllProperties
)

Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'

# The embedded properties cmflow reads (docs/import-configmgr.md); the rest stays out of
# the file unless -AllProperties.
$PropsRead = @(
    'SQLServerFQDN', 'SQLServicePort', 'SSBPort', 'SQL Server Service Broker Port',
    'IsPXE', 'IsMulticast', 'IsPullDP', 'SslState',
    'WSUSIISPort', 'WSUSIISSSLPort', 'SSLWSUS',
    'FDMOperation',
    'IISPortsList', 'IISSSLPortsList'
)
$PropListsRead = @('SourceDistributionPoints', 'SourceDPRanks')

# Local by default (DCOM-free local CIM); -SiteServer goes through WinRM.
$cim = @{}
if ($PSBoundParameters.ContainsKey('SiteServer')) { $cim.ComputerName = $SiteServer }
if (-not $SiteCode) {
    $provider = Get-CimInstance @cim -Namespace 'root\SMS' -ClassName 'SMS_ProviderLocation' |
        Where-Object { $_.ProviderForLocalSite } | Select-Object -First 1
    if (-not $provider) {
        throw "No SMS Provider for a local site on $SiteServer: give -SiteServer and -SiteCode."
    }
    $SiteCode = $provider.SiteCode
}
$cim.Namespace = "root\SMS\site_$SiteCode"

function Get-Class([string] $Class, [string] $Filter) {
    $query = "SELECT * FROM $Class"
    if ($Filter) { $query += " WHERE $Filter" }
    Write-Verbose $query
    @(Get-CimInstance @cim -Query $query)
}

# The listed properties of an instance, as an ordered table (property names kept).
function Select-Fields($Instance, [string[]] $Names) {
    $out = [ordered]@{}
    foreach ($name in $Names) {
        if ($Instance.CimInstanceProperties[$name]) { $out[$name] = $Instance.$name }
    }
    $out
}

# SMS_EmbeddedProperty[] and SMS_EmbeddedPropertyList[] as plain objects.
function ConvertFrom-Props($Props) {
    $list = New-Object System.Collections.ArrayList
    foreach ($p in @($Props)) {
        if ($null -eq $p) { continue }
        if (-not $AllProperties -and $PropsRead -notcontains $p.PropertyName) { continue }
        [void] $list.Add([ordered]@{
            PropertyName = $p.PropertyName; Value = $p.Value; Value1 = $p.Value1; Value2 = $p.Value2
        })
    }
    , $list.ToArray()
}
function ConvertFrom-PropLists($Lists) {
    $list = New-Object System.Collections.ArrayList
    foreach ($l in @($Lists)) {
        if ($null -eq $l) { continue }
        if (-not $AllProperties -and $PropListsRead -notcontains $l.PropertyListName) { continue }
        [void] $list.Add([ordered]@{ PropertyListName = $l.PropertyListName; Values = @($l.Values) })
    }
    , $list.ToArray()
}

function Get-Rows([string] $Class, [string[]] $Fields, [string] $Filter) {
    $rows = New-Object System.Collections.ArrayList
    foreach ($i in Get-Class $Class $Filter) {
        $row = Select-Fields $i $Fields
        if ($i.CimInstanceProperties['Props']) { $row.Props = ConvertFrom-Props $i.Props }
        if ($i.CimInstanceProperties['PropLists']) { $row.PropLists = ConvertFrom-PropLists $i.PropLists }
        [void] $rows.Add($row)
    }
    , $rows.ToArray()
}

# FileType = 2: the site control data in effect (not a proposed change).
$inventory = [ordered]@{
    'cmflow-inventory'               = 1
    generator                        = 'Export-CmflowInventory.ps1'
    generatedAt                      = (Get-Date).ToUniversalTime().ToString('yyyy-MM-ddTHH:mm:ssZ')
    provider                         = "$SiteServer/$SiteCode"
    SMS_Site                         = Get-Rows 'SMS_Site' @('SiteCode', 'SiteName', 'Type', 'ReportingSiteCode', 'ServerName', 'Version', 'BuildNumber')
    SMS_SCI_SiteDefinition           = Get-Rows 'SMS_SCI_SiteDefinition' @('SiteCode', 'SiteName', 'ParentSiteCode', 'SiteType', 'SiteServerName', 'SQLServerName', 'SQLDatabaseName') 'FileType = 2'
    SMS_SCI_SysResUse                = Get-Rows 'SMS_SCI_SysResUse' @('SiteCode', 'RoleName', 'NetworkOSPath', 'NALPath', 'SslState', 'Type') 'FileType = 2'
    SMS_SCI_Component                = Get-Rows 'SMS_SCI_Component' @('SiteCode', 'ItemName', 'ComponentName') "FileType = 2 AND ItemName LIKE 'SMS_MP_CONTROL_MANAGER%'"
    SMS_Boundary                     = Get-Rows 'SMS_Boundary' @('BoundaryID', 'BoundaryType', 'Value', 'DisplayName')
    SMS_BoundaryGroup                = Get-Rows 'SMS_BoundaryGroup' @('GroupID', 'Name', 'DefaultSiteCode', 'Description')
    SMS_BoundaryGroupMembers         = Get-Rows 'SMS_BoundaryGroupMembers' @('GroupID', 'BoundaryID')
    SMS_BoundaryGroupSiteSystems     = Get-Rows 'SMS_BoundaryGroupSiteSystems' @('GroupID', 'ServerNALPath', 'SiteCode', 'Flags')
    # The fallback times are documented as methods of this class but read as properties,
    # in minutes (-1: never fall back).
    SMS_BoundaryGroupRelationships   = Get-Rows 'SMS_BoundaryGroupRelationships' @('SourceGroupID', 'SourceGroupName', 'DestinationGroupID', 'DestinationGroupName', 'FallbackDP', 'FallbackMP', 'FallbackSMP', 'FallbackSUP')
}

$json = ConvertTo-Json -InputObject $inventory -Depth 8
$path = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($OutFile)
[System.IO.File]::WriteAllText($path, $json, (New-Object System.Text.UTF8Encoding $false))
$counts = ($inventory.Keys | Where-Object { $_ -like 'SMS_*' } |
    ForEach-Object { '{0} {1}' -f @($inventory[$_]).Count, $_ }) -join ', '
Write-Host "Wrote $path ($counts)."
