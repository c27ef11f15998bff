//! The input checks the loader performs (`rules.md` § Input), with their documentation.
//! They are listed in the rule registry (`rules::RULES`) like every other check.

use crate::diag::{RuleInfo, Severity};

pub static KDL_SYNTAX: RuleInfo = RuleInfo {
    code: "kdl/syntax",
    default_severity: Severity::Error,
    summary: "A file is not valid KDL",
    docs: r#"## What it does
Reports every syntax error the `kdl` parser finds in a file, with the parser's own message
and span. KDL 2.0 is the input language; KDL 1.0 documents are accepted through the
parser's fallback. Files that are not UTF-8, or that nest deeper than cmflow accepts, are
reported here too.

## Why
A file that does not parse contributes nothing to the model: every site, server and
firewall in it would silently be missing from the checks.

## Example that fails
```kdl
zone "hq" { subnet "10.10.0.0/16"
```

## Fixed example
```kdl
zone "hq" { subnet "10.10.0.0/16" }
```
"#,
};

pub static UNKNOWN_NODE: RuleInfo = RuleInfo {
    code: "schema/unknown-node",
    default_severity: Severity::Error,
    summary: "A node name that is not allowed where it stands",
    docs: r#"## What it does
Checks every node name against the input language (`language.md`, `schema/cmflow.kdl`)
in its context: top level, inside a `site`, a site's `server` (site system roles), a
top-level `server` (infrastructure roles), a `firewall`, a `windows-firewall`, a
`policy` or `lint`. The help names the closest allowed node.

## Why
A misspelt role (`managment-point`) would otherwise leave the server without the role,
and every flow the role needs would be missing from the checks.

## Example that fails
```kdl
site "P01" type="primary" {
    server "cm01.contoso.com" zone="dc" { managment-point }
}
```

## Fixed example
```kdl
site "P01" type="primary" {
    server "cm01.contoso.com" zone="dc" { management-point }
}
```
"#,
};

pub static UNKNOWN_PROPERTY: RuleInfo = RuleInfo {
    code: "schema/unknown-property",
    default_severity: Severity::Error,
    summary: "A property that the node does not have",
    docs: r#"## What it does
Checks every property name against the node's properties in the input language. The
help names the closest allowed property.

## Why
A misspelt setting (`wsus-htps=8531`) is otherwise ignored and its default used, so
the flows and checks would describe a different hierarchy than the one deployed.

## Example that fails
```kdl
server "sup01.contoso.com" zon="dc" { software-update-point }
```

## Fixed example
```kdl
server "sup01.contoso.com" zone="dc" { software-update-point }
```
"#,
};

pub static INVALID_VALUE: RuleInfo = RuleInfo {
    code: "schema/invalid-value",
    default_severity: Severity::Error,
    summary: "A value of the wrong type, an unknown enum value, or a malformed CIDR, port list, endpoint or FQDN",
    docs: r#"## What it does
Checks every argument and property value: its type (string, integer, boolean), enum
values (`type="primary"`), ports (1-65535), port lists and ranges (`80,443,8530-8531`,
start not after end), endpoint lists (`zone:hq,role:management-point@P01`), CIDRs and
addresses, host names, and unexpected extra arguments. The label points at the
offending part of the value where it can.

## Why
A value cmflow cannot read cannot be checked; guessing would hide the mistake.

## Example that fails
```kdl
site "P01" type="tertiary"
firewall "fw" { allow from="zone:hq" to="any" tcp="80,70000" }
```

## Fixed example
```kdl
site "P01" type="primary"
firewall "fw" { allow from="zone:hq" to="any" tcp="80,7000" }
```
"#,
};

pub static MISSING_VALUE: RuleInfo = RuleInfo {
    code: "schema/missing-value",
    default_severity: Severity::Error,
    summary: "A required argument or property is absent",
    docs: r#"## What it does
Reports nodes without a required argument (a site's code, a server's FQDN) or property
(`type` on a site, `zone` on a server, `site` and `zone` on a client group, `reason` on
a `suppress`), and a switch that needs another: `sources` on a distribution point
without `pull=#true`, `pxe-responder=#true` without `pxe=#true`.

## Why
Without them cmflow cannot place the node in the hierarchy or the network, so its flows
cannot be computed.

## Example that fails
```kdl
server "dc01.contoso.com" { domain-controller }
```

## Fixed example
```kdl
server "dc01.contoso.com" zone="datacenter" { domain-controller }
```
"#,
};

pub static DUPLICATE_NAME: RuleInfo = RuleInfo {
    code: "schema/duplicate-name",
    default_severity: Severity::Error,
    summary: "Two zones, sites, servers, groups, consoles, firewalls, policies or SQL instances share a name",
    docs: r#"## What it does
Names are global across all files of the model. Reports two zones, sites, servers
(compared case-insensitively, as DNS does), client groups, consoles, cloud services,
firewalls, policies, or SQL instances of one server with the same name, and a property
given twice on one node. Both places are labelled.

## Why
References (`zone="hq"`, `host:cm01.contoso.com`) must name exactly one thing;
a server declared twice would get the roles of only one of its declarations.

## Example that fails
```kdl
zone "hq" { subnet "10.10.0.0/16" }
zone "hq" { subnet "10.20.0.0/16" }
```

## Fixed example
```kdl
zone "hq" { subnet "10.10.0.0/16"; subnet "10.20.0.0/16" }
```
"#,
};

pub static UNKNOWN_REFERENCE: RuleInfo = RuleInfo {
    code: "schema/unknown-reference",
    default_severity: Severity::Error,
    summary: "A reference to a site, zone, server, instance, role, group or rule code that does not exist",
    docs: r#"## What it does
Resolves every reference: `parent`, `site`, `zone`, `database server= instance=`,
`content-library server=`, `upstream`, `susdb`, `database`, `exchange`, a pull
distribution point's `sources` (each a distribution point other than itself), firewall `zones`,
endpoint lists (`zone:`, `host:`, `site:`, `role:`, `clients:`) and rule codes in `lint`
and `suppress`. The help names the closest existing name.

## Why
A reference to nothing is almost always a typo; the flows that depend on it would
silently disappear.

## Example that fails
```kdl
zone "datacenter"
server "dc01.contoso.com" zone="datacentre" { domain-controller }
```

## Fixed example
```kdl
zone "datacenter"
server "dc01.contoso.com" zone="datacenter" { domain-controller }
```
"#,
};

pub static SOURCE_UNSUPPORTED: RuleInfo = RuleInfo {
    code: "source/unsupported",
    default_severity: Severity::Warning,
    summary: "A construct in a firewall's source file that cmflow cannot represent exactly",
    docs: r#"## What it does
Reports each construct of a `source=` file (an iptables interface match `-i eth0`, a
negated address, an Azure service tag other than `Internet` and `VirtualNetwork`, a
program- or service-scoped Windows Firewall rule, an address object that cannot be
resolved) that the model cannot represent exactly, where it is written in that file.
The help says what cmflow does about it: the rule holding it matches as *unknown*
wherever its other parts match, so every verdict it touches is `indeterminate`
(`firewall/indeterminate`), never silently allowed or blocked. `docs/sources/` lists
what each format supports.

## Why
A rule read approximately would give confident verdicts about a firewall that behaves
differently: an interface-bound `ACCEPT` read as matching every packet would hide a
blocked flow.

## Example that fails
An `iptables-save` file read with `source="fw.rules" format="iptables-save"`:
```text
*filter
:FORWARD DROP [0:0]
-A FORWARD -i eth1 -p tcp --dport 443 -j ACCEPT
COMMIT
```

## Fixed example
```text
*filter
:FORWARD DROP [0:0]
-A FORWARD -s 10.20.0.0/16 -p tcp --dport 443 -j ACCEPT
COMMIT
```
"#,
};

pub static SOURCE_PARSE: RuleInfo = RuleInfo {
    code: "source/parse",
    default_severity: Severity::Error,
    summary: "A firewall's source file cannot be read or parsed",
    docs: r#"## What it does
Reports a `source=` file that does not exist or cannot be read (at the `source=` value,
with the system's reason), that is not UTF-8 or UTF-16 with a byte order mark, or whose
content does not follow its `format=` (at the offending place in that file: a malformed
line, an unknown chain, a jump loop, invalid JSON). Paths are relative to the KDL file
that names them. A firewall whose file cannot be read decides nothing for sure: every
verdict through it is `indeterminate`.

## Why
The firewall's real rules are in that file; without them cmflow would judge a firewall
that does not exist.

## Example that fails
```kdl
zone "hq"
zone "dc"
firewall "fw-core" source="missing.rules" format="iptables-save" {
    zones "hq" "dc"
}
```

## Fixed example
```kdl
zone "hq"
zone "dc"
firewall "fw-core" source="fw-core.rules" format="iptables-save" {
    zones "hq" "dc"
}
```
"#,
};
