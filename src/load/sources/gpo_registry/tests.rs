use super::*;
use crate::load::sources::test_support::{at, ends, input, ports};
use crate::model::HostRule;

const REG: &[u8] =
    include_bytes!("../../../../tests/fixtures/sources/gpo-registry/site-policy.reg");
const TXT: &str = include_str!("../../../../tests/fixtures/sources/gpo-registry/mp01-rules.txt");

fn read_text(text: &str) -> Result<HostRules, SourceError> {
    read(&input(text, "policy.reg"))
}

fn name(r: &HostRule) -> &str {
    r.name.as_ref().map_or("", |n| n.value.as_str())
}

#[test]
fn a_utf16_reg_export_of_the_policy() {
    let text = super::super::decode(REG).unwrap();
    let out = read_text(&text).unwrap();
    let names: Vec<&str> = out.rules.iter().map(name).collect();
    // Inactive FTP and the GRE rule are not read; indirect names give way to the value's.
    assert_eq!(
        names,
        [
            "ConfigMgr DP HTTP and HTTPS",
            "ConfigMgr PXE TFTP",
            "WDS-RPC-In-TCP",
            "RPC Endpoint Mapper",
            "Block SMB from the build range",
            "FPS-ICMP4-ERQ-In",
            "Software update scan",
            "Wake on LAN relay",
            "Block NetBIOS out",
            "Backup network only",
            "From a newer Windows",
        ]
    );
    let web = &out.rules[0];
    assert_eq!((web.direction, web.action), (Direction::In, Action::Allow));
    assert_eq!(ports(web.traffic.tcp.as_ref()), "80,443");
    assert_eq!(
        ends(&web.traffic.from),
        ["cidr:10.1.0.0/16", "cidr:10.2.0.0/16"]
    );
    assert_eq!(web.profiles, ["domain"]);
    assert!(at(&text, web.span).starts_with("v2.31|Action=Allow"));
    assert!(at(&text, web.span).ends_with("Name=ConfigMgr DP HTTP and HTTPS|"));
    assert_eq!(
        at(&text, web.traffic.tcp.as_ref().unwrap().span),
        "80|LPort=443"
    );
    assert_eq!(out.rules[1].profiles, ["domain", "private"]);

    let wds = &out.rules[2];
    assert_eq!(ports(wds.traffic.tcp.as_ref()), "rpc");
    // Spans map through `.reg` escapes onto the file's own text.
    assert_eq!(
        at(&text, wds.uncertain.unwrap()),
        r"App=%SystemRoot%\\system32\\svchost.exe"
    );
    assert_eq!(ports(out.rules[3].traffic.tcp.as_ref()), "rpc-epmap");
    let smb = &out.rules[4];
    assert_eq!(smb.action, Action::Deny);
    assert_eq!(smb.traffic.from.len(), 6);
    assert!(at(&text, smb.span).ends_with(r#"over HTTPS \"only\"|"#));
    assert!(out.rules[5].traffic.icmp);
    let scan = &out.rules[6];
    assert_eq!(scan.direction, Direction::Out);
    assert_eq!(ports(scan.traffic.tcp.as_ref()), "8530,8531");
    assert_eq!(ends(&scan.traffic.to), ["cidr:10.0.1.10/32"]);
    assert_eq!(ports(out.rules[7].source_ports.as_ref()), "1024-65535");
    assert_eq!(ports(out.rules[8].traffic.udp.as_ref()), "137-138");

    let found: Vec<(&str, &str)> = out
        .unsupported
        .iter()
        .map(|u| (u.construct.as_str(), at(&text, u.span)))
        .collect();
    assert_eq!(
        found,
        [
            (
                r"program `%SystemRoot%\system32\svchost.exe`",
                r"App=%SystemRoot%\\system32\\svchost.exe"
            ),
            ("service `WdsServer`", "Svc=WdsServer"),
            ("address keyword `LocalSubnet`", "LocalSubnet"),
            ("address keyword `LocalSubnet`", "LocalSubnet"),
            ("interface type `Lan`", "IFType=Lan"),
            ("the field `Future=Something`", "Future=Something"),
            (
                "the Private profile with Windows Firewall turned off",
                "dword:00000000"
            ),
            (
                "the Public profile's default outbound action, which differs from the Domain profile's",
                "dword:00000001"
            ),
        ]
    );
    assert_eq!(out.inbound.as_ref().map(|a| a.value), Some(Action::Deny));
    assert_eq!(out.outbound.as_ref().map(|a| a.value), Some(Action::Allow));
}

#[test]
fn a_text_file_of_rule_strings() {
    let out = read_text(TXT).unwrap();
    let names: Vec<&str> = out.rules.iter().map(name).collect();
    assert_eq!(
        names,
        [
            "ConfigMgr MP HTTPS",
            "SQL from the site server",
            "Windows Remote Management (HTTP-In)",
            "IPsec admin bypass",
        ]
    );
    assert_eq!(ends(&out.rules[0].traffic.from), ["any"]);
    assert_eq!(at(TXT, out.rules[2].uncertain.unwrap()), "RA42=IntrAnet");
    let bypass = &out.rules[3];
    assert_eq!(bypass.action, Action::Allow);
    assert_eq!(at(TXT, bypass.uncertain.unwrap()), "ByPass");
    assert_eq!(out.unsupported.len(), 3);
    assert_eq!(
        out.unsupported[2].construct,
        "IPsec requirement `Authenticate`"
    );
    assert!(out.inbound.is_none() && out.outbound.is_none());
    // [MS-GPFAS] spells `RMauth` and `RMAuth`: field names match in any case.
    let text = "v2.31|Action=Allow|Active=TRUE|Dir=In|RMAuth=O:LSD:(A;;CC;;;S-1-5-21)|pcross=TRUE|";
    let out = read_text(text).unwrap();
    assert_eq!(out.unsupported.len(), 1);
    assert!(
        out.unsupported[0]
            .construct
            .starts_with("remote machine authorization")
    );
}

#[test]
fn grammar_errors_point_at_the_field() {
    let cases = [
        (
            "Action=Allow|Dir=In|",
            "Action=Allow|Dir=In|",
            "starts with its version",
        ),
        ("vX|Action=Allow|", "vX", "not a rule string version"),
        (
            "v2.31|Action=Deny|Active=TRUE|Dir=In|",
            "Deny",
            "`Action` is Allow",
        ),
        (
            "v2.31|Action=Allow|Active=TRUE|Dir=Up|",
            "Up",
            "`Dir` is In or Out",
        ),
        (
            "v2.31|Action=Allow|Active=yes|Dir=In|",
            "yes",
            "TRUE or FALSE",
        ),
        (
            "v2.31|Action=Allow|Active=TRUE|Dir=In|Protocol=300|",
            "300",
            "`Protocol` is a number",
        ),
        (
            "v2.31|Action=Allow|Active=TRUE|Dir=In|Protocol=6|LPort=99999|",
            "99999",
            "is not a port",
        ),
        (
            "v2.31|Action=Allow|Active=TRUE|Dir=In|RA4=10.0.0.300|",
            "10.0.0.300",
            "is not an address",
        ),
        (
            "v2.31|Action=Allow|Active=TRUE|Dir=In|Profile=Work|",
            "Work",
            "is not a profile",
        ),
        (
            "v2.31|Action=Allow|Active=TRUE|Dir=In|Oops|",
            "Oops",
            "is not a field",
        ),
        (
            "v2.31|Active=TRUE|Dir=In|",
            "v2.31|Active=TRUE|Dir=In|",
            "no `Action=`",
        ),
        (
            "v2.31|Action=Allow|Active=TRUE|",
            "v2.31|Action=Allow|Active=TRUE|",
            "no `Dir=`",
        ),
    ];
    for (text, spot, message) in cases {
        let e = read_text(text).unwrap_err();
        assert!(e.message.contains(message), "{text}: {e:?}");
        assert_eq!(at(text, e.span.unwrap()), spot, "{text}");
    }
}

#[test]
fn reg_syntax_errors() {
    let head = "REGEDIT4\n\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\WindowsFirewall\\FirewallRules]\n";
    let cases = [
        (
            "\"a\"=\"v2.31|Action=Allow",
            "\"a\"=\"v2.31|Action=Allow",
            "unterminated string",
        ),
        ("\"a\"=\"v2.31|\" x", " x", "unexpected text"),
        ("junk", "junk", "expected a key"),
        ("\"a\" \"b\"", "\"a\" \"b\"", "expected `=`"),
    ];
    for (line, spot, message) in cases {
        let text = format!("{head}{line}\n");
        let e = read_text(&text).unwrap_err();
        assert!(e.message.contains(message), "{line}: {e:?}");
        assert_eq!(at(&text, e.span.unwrap()), spot, "{line}");
    }
    // Values of other keys and other types are not rules.
    let text = format!(
        "{head}[HKEY_LOCAL_MACHINE\\SOFTWARE\\Other]\n\"x\"=\"not a rule\"\n@=hex:01,02,\\\n  03\n"
    );
    assert!(read_text(&text).unwrap().rules.is_empty());
}
