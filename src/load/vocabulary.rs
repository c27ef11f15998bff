//! The input language of `language.md` as a table: which nodes may appear where, their
//! arguments, properties, value kinds, enum values and defaults.
//!
//! The loader validates every node against this table (unknown nodes and properties,
//! missing and invalid values), and a test compares it with `schema/cmflow.kdl`, so the
//! schema and the loader cannot drift. Meaning (what a value does) lives elsewhere.

/// The kind of a property or argument value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Bool,
    /// TCP/UDP port, 1-65535.
    Port,
    /// Integer >= 1.
    Count,
    Enum(&'static [&'static str]),
    /// Any non-empty string.
    Text,
    /// A host name: letters, digits, `-` and `.`.
    Fqdn,
    /// A CIDR such as `10.0.0.0/24`.
    Cidr,
    /// An IPv4 or IPv6 address.
    Ip,
    /// A port range `START-END`.
    PortRange,
    /// Endpoint list: `zone:hq,role:management-point@P01`.
    Endpoints,
    /// Port list: `80,443,8530-8531,rpc`.
    Ports,
    /// Comma-separated subset of `domain`, `private`, `public` (or `any`).
    Profiles,
    /// `"internet"` or an FQDN.
    InternetOrFqdn,
    /// `"online"` or an FQDN.
    OnlineOrFqdn,
    /// `"FQDN/INSTANCE"`.
    InstanceRef,
    /// Comma-separated host names (`sources` of a pull distribution point).
    FqdnList,
    /// Catalog ports: a number, `START-END`, or a symbolic port (`client-http`, `sql`, ...).
    CatalogPort,
    /// A boundary: an IPv4 subnet, an IPv6 prefix, or an address range `A.B.C.D-E.F.G.H`.
    Boundary,
    /// Comma-separated CIDRs: `10.1.10.0/24,10.1.11.0/24`.
    CidrList,
    /// Comma-separated names (boundary groups of a client group).
    Names,
    /// Minutes before fallback: an integer >= 0, or `"never"`.
    Minutes,
}

/// A property of a node.
#[derive(Clone, Copy, Debug)]
pub struct PropSpec {
    pub name: &'static str,
    pub kind: Kind,
    pub required: bool,
    /// The default as written in `language.md`, when there is one.
    pub default: Option<&'static str>,
}

/// A positional argument of a node.
#[derive(Debug)]
pub struct ArgSpec {
    /// What the argument is, for messages (`site code`, `FQDN`).
    pub what: &'static str,
    pub kind: Kind,
    pub required: bool,
    /// Whether any number of further arguments of the same kind may follow.
    pub repeat: bool,
}

/// Where a node may appear; each context lists the node names allowed in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Context {
    TopLevel,
    Zone,
    Site,
    /// A `server` inside a `site`: site system roles.
    SiteServer,
    /// A top-level `server`: infrastructure roles.
    InfraServer,
    Clients,
    /// Children of a `boundary-group`.
    BoundaryGroup,
    WindowsFirewall,
    Firewall,
    Policy,
    Lint,
    /// Inside the model's `catalog` node.
    CatalogChoice,
    /// Nodes with no children besides `suppress`.
    Leaf,
    /// The top level of a catalog file (`policies/*.kdl`).
    Catalog,
    /// Inside a catalog `section`.
    CatalogSection,
}

/// One node of the language.
#[derive(Debug)]
pub struct NodeSpec {
    pub name: &'static str,
    pub args: &'static [ArgSpec],
    pub props: &'static [PropSpec],
    /// The context of this node's children.
    pub children: Context,
}

impl NodeSpec {
    pub fn prop(&self, name: &str) -> Option<&'static PropSpec> {
        self.props.iter().find(|p| p.name == name)
    }
}

const fn prop(name: &'static str, kind: Kind) -> PropSpec {
    PropSpec {
        name,
        kind,
        required: false,
        default: None,
    }
}
const fn prop_default(name: &'static str, kind: Kind, default: &'static str) -> PropSpec {
    PropSpec {
        name,
        kind,
        required: false,
        default: Some(default),
    }
}
const fn required(name: &'static str, kind: Kind) -> PropSpec {
    PropSpec {
        name,
        kind,
        required: true,
        default: None,
    }
}
const fn arg(what: &'static str, kind: Kind) -> ArgSpec {
    ArgSpec {
        what,
        kind,
        required: true,
        repeat: false,
    }
}
const fn node(
    name: &'static str,
    args: &'static [ArgSpec],
    props: &'static [PropSpec],
) -> NodeSpec {
    NodeSpec {
        name,
        args,
        props,
        children: Context::Leaf,
    }
}

pub const SITE_TYPES: &[&str] = &["central", "primary", "secondary"];
pub const NETWORK_PROFILES: &[&str] = &["domain", "private", "public"];
pub const CLIENT_TYPES: &[&str] = &["windows", "mac", "mobile"];
pub const INSTALL_METHODS: &[&str] = &[
    "push",
    "group-policy",
    "manual",
    "software-update",
    "software-distribution",
];
pub const SEVERITIES: &[&str] = &["error", "warning", "info"];
pub const LINT_LEVELS: &[&str] = &["error", "warning", "info", "off"];
pub const FIREWALL_DEFAULTS: &[&str] = &["deny", "allow"];
pub const HOST_DEFAULTS: &[&str] = &["block", "allow"];
/// `format=` values of a `firewall` or `windows-firewall` with `source=`: every name of
/// [`crate::load::sources::SourceFormat::ALL`] (the node decides which fit; a test keeps
/// the two lists equal).
pub const SOURCE_FORMATS: &[&str] = &[
    "aerleon",
    "nftables-json",
    "iptables-save",
    "azure-nsg-json",
    "netfirewallrule-json",
    "gpo-registry",
];
pub const DIRECTIONS: &[&str] = &["in", "out"];

const NAME: ArgSpec = arg("name", Kind::Text);
const RULE_NAME: ArgSpec = ArgSpec {
    what: "rule name",
    kind: Kind::Text,
    required: false,
    repeat: false,
};
const INITIATES: PropSpec = prop("site-server-initiates", Kind::Bool);

const SERVER_PROPS: &[PropSpec] = &[
    required("zone", Kind::Text),
    prop("address", Kind::Ip),
    prop_default("rpc-ports", Kind::PortRange, "49152-65535"),
    PropSpec {
        name: "network-profile",
        kind: Kind::Enum(NETWORK_PROFILES),
        required: false,
        default: Some("domain"),
    },
];

const TRAFFIC_PROPS: &[PropSpec] = &[
    prop_default("from", Kind::Endpoints, "any"),
    prop_default("to", Kind::Endpoints, "any"),
    prop("tcp", Kind::Ports),
    prop("udp", Kind::Ports),
    prop_default("icmp", Kind::Bool, "#false"),
];

const HOST_RULE_PROPS: &[PropSpec] = &[
    prop_default("from", Kind::Endpoints, "any"),
    prop_default("to", Kind::Endpoints, "any"),
    prop("tcp", Kind::Ports),
    prop("udp", Kind::Ports),
    prop_default("icmp", Kind::Bool, "#false"),
    prop_default("profile", Kind::Profiles, "any"),
    // `remote-port` on `in` rules, `local-port` on `out` rules: the source's port (the
    // loader refuses the other combination).
    prop("local-port", Kind::Ports),
    prop("remote-port", Kind::Ports),
];

pub const WAIVER_PHASES: &[&str] = &["all", "operation", "install", "client-install"];

const WAIVE_PROPS: &[PropSpec] = &[
    prop_default("from", Kind::Endpoints, "any"),
    prop_default("to", Kind::Endpoints, "any"),
    prop("tcp", Kind::Ports),
    prop("udp", Kind::Ports),
    prop_default("icmp", Kind::Bool, "#false"),
    PropSpec {
        name: "phase",
        kind: Kind::Enum(WAIVER_PHASES),
        required: false,
        default: Some("all"),
    },
];

/// Nodes allowed at the top of a file.
pub const TOP_LEVEL: &[NodeSpec] = &[
    NodeSpec {
        name: "zone",
        args: &[NAME],
        props: &[],
        children: Context::Zone,
    },
    NodeSpec {
        name: "site",
        args: &[arg("site code", Kind::Text)],
        props: &[
            required("type", Kind::Enum(SITE_TYPES)),
            prop("parent", Kind::Text),
            prop_default("published-to-ad", Kind::Bool, "#true"),
            prop_default("site-server-initiates", Kind::Bool, "#false"),
            prop_default("enhanced-http", Kind::Bool, "#false"),
        ],
        children: Context::Site,
    },
    NodeSpec {
        name: "server",
        args: &[arg("FQDN", Kind::Fqdn)],
        props: SERVER_PROPS,
        children: Context::InfraServer,
    },
    NodeSpec {
        name: "clients",
        args: &[NAME],
        props: &[
            required("site", Kind::Text),
            required("zone", Kind::Text),
            PropSpec {
                name: "type",
                kind: Kind::Enum(CLIENT_TYPES),
                required: false,
                default: Some("windows"),
            },
            prop("install", Kind::Enum(INSTALL_METHODS)),
            prop_default("wake-up-proxy", Kind::Bool, "#false"),
            prop_default("wake-on-lan", Kind::Bool, "#false"),
            prop_default("peer-cache", Kind::Bool, "#false"),
            prop_default("express-updates", Kind::Bool, "#false"),
            prop_default("remote-control", Kind::Bool, "#false"),
            prop_default("remote-assistance", Kind::Bool, "#false"),
            prop_default("workgroup", Kind::Bool, "#false"),
            prop_default("internet", Kind::Bool, "#false"),
            prop("forest", Kind::Text),
            prop("subnet", Kind::CidrList),
            prop("ad-site", Kind::Text),
            prop("boundary-group", Kind::Names),
        ],
        children: Context::Clients,
    },
    node(
        "console",
        &[NAME],
        &[
            required("zone", Kind::Text),
            required("site", Kind::Text),
            prop("address", Kind::Ip),
        ],
    ),
    NodeSpec {
        name: "boundary-group",
        args: &[NAME],
        props: &[prop("site", Kind::Text), prop("default-for", Kind::Text)],
        children: Context::BoundaryGroup,
    },
    NodeSpec {
        name: "waive",
        args: &[arg("reason", Kind::Text)],
        props: WAIVE_PROPS,
        children: Context::Leaf,
    },
    node(
        "cloud-management-gateway",
        &[NAME],
        &[
            required("site", Kind::Text),
            prop_default("vms", Kind::Count, "1"),
        ],
    ),
    node(
        "cloud-distribution-point",
        &[NAME],
        &[required("site", Kind::Text)],
    ),
    NodeSpec {
        name: "firewall",
        args: &[NAME],
        props: &[
            PropSpec {
                name: "default",
                kind: Kind::Enum(FIREWALL_DEFAULTS),
                required: false,
                default: Some("deny"),
            },
            prop("source", Kind::Text),
            prop("format", Kind::Enum(SOURCE_FORMATS)),
            prop("attached", Kind::Text),
        ],
        children: Context::Firewall,
    },
    NodeSpec {
        name: "policy",
        args: &[NAME],
        props: &[PropSpec {
            name: "severity",
            kind: Kind::Enum(SEVERITIES),
            required: false,
            default: Some("error"),
        }],
        children: Context::Policy,
    },
    node("flow", &[NAME], TRAFFIC_PROPS),
    NodeSpec {
        name: "lint",
        args: &[],
        props: &[],
        children: Context::Lint,
    },
    NodeSpec {
        name: "catalog",
        args: &[],
        props: &[PropSpec {
            name: "edition",
            kind: Kind::Enum(EDITIONS),
            required: false,
            default: Some("2020"),
        }],
        children: Context::CatalogChoice,
    },
];

/// `catalog edition=` values.
pub const EDITIONS: &[&str] = &["2020", "2025"];
/// `include` values: the extra catalogs that ship with cmflow.
pub const INCLUDES: &[&str] = &["windows-domain"];

const CATALOG_CHOICE_CHILDREN: &[NodeSpec] = &[node(
    "include",
    &[arg("extra catalog", Kind::Enum(INCLUDES))],
    &[],
)];

const ZONE_CHILDREN: &[NodeSpec] = &[node("subnet", &[arg("CIDR", Kind::Cidr)], &[])];

const SITE_CHILDREN: &[NodeSpec] = &[
    node(
        "client-ports",
        &[],
        &[
            prop_default("http", Kind::Port, "80"),
            prop_default("https", Kind::Port, "443"),
            prop("http-alternate", Kind::Port),
            prop("https-alternate", Kind::Port),
            prop_default("notification", Kind::Port, "10123"),
            prop_default("wake-on-lan", Kind::Port, "9"),
            prop_default("wake-up-proxy", Kind::Port, "25536"),
        ],
    ),
    node(
        "database",
        &[],
        &[
            required("server", Kind::Fqdn),
            required("instance", Kind::Text),
        ],
    ),
    node("content-library", &[], &[required("server", Kind::Fqdn)]),
    NodeSpec {
        name: "server",
        args: &[arg("FQDN", Kind::Fqdn)],
        props: SERVER_PROPS,
        children: Context::SiteServer,
    },
];

const SQL_INSTANCE: NodeSpec = node(
    "sql-instance",
    &[arg("instance name", Kind::Text)],
    &[
        prop("port", Kind::Port),
        prop("broker-port", Kind::Port),
        prop_default("dynamic", Kind::Bool, "#false"),
    ],
);

const WINDOWS_FIREWALL: NodeSpec = NodeSpec {
    name: "windows-firewall",
    args: &[],
    props: &[
        PropSpec {
            name: "inbound",
            kind: Kind::Enum(HOST_DEFAULTS),
            required: false,
            default: Some("block"),
        },
        PropSpec {
            name: "outbound",
            kind: Kind::Enum(HOST_DEFAULTS),
            required: false,
            default: Some("allow"),
        },
        prop("source", Kind::Text),
        prop("format", Kind::Enum(SOURCE_FORMATS)),
    ],
    children: Context::WindowsFirewall,
};

const SITE_SERVER_CHILDREN: &[NodeSpec] = &[
    node("site-server", &[], &[INITIATES]),
    node("sms-provider", &[], &[INITIATES]),
    node(
        "management-point",
        &[],
        &[
            prop_default("http", Kind::Bool, "#true"),
            prop_default("https", Kind::Bool, "#false"),
            INITIATES,
        ],
    ),
    node(
        "distribution-point",
        &[],
        &[
            prop_default("pull", Kind::Bool, "#false"),
            prop_default("pxe", Kind::Bool, "#false"),
            prop_default("multicast", Kind::Bool, "#false"),
            prop_default("http", Kind::Bool, "#true"),
            prop_default("https", Kind::Bool, "#false"),
            prop("sources", Kind::FqdnList),
            prop_default("pxe-responder", Kind::Bool, "#false"),
            INITIATES,
        ],
    ),
    node(
        "software-update-point",
        &[],
        &[
            prop_default("wsus-http", Kind::Port, "8530"),
            prop_default("wsus-https", Kind::Port, "8531"),
            prop_default("ssl", Kind::Bool, "#false"),
            prop("upstream", Kind::InternetOrFqdn),
            prop("susdb", Kind::InstanceRef),
            INITIATES,
        ],
    ),
    node("fallback-status-point", &[], &[INITIATES]),
    node(
        "reporting-services-point",
        &[],
        &[
            prop_default("http", Kind::Port, "80"),
            prop_default("https", Kind::Port, "443"),
            INITIATES,
        ],
    ),
    node("state-migration-point", &[], &[INITIATES]),
    node("application-catalog-website-point", &[], &[INITIATES]),
    node("application-catalog-web-service-point", &[], &[INITIATES]),
    node(
        "asset-intelligence-synchronization-point",
        &[],
        &[INITIATES],
    ),
    node("certificate-registration-point", &[], &[INITIATES]),
    node("cmg-connection-point", &[], &[INITIATES]),
    node("service-connection-point", &[], &[INITIATES]),
    node("endpoint-protection-point", &[], &[INITIATES]),
    node("enrollment-point", &[], &[INITIATES]),
    node("enrollment-proxy-point", &[], &[INITIATES]),
    node(
        "data-warehouse-service-point",
        &[],
        &[prop("database", Kind::InstanceRef), INITIATES],
    ),
    node(
        "exchange-server-connector",
        &[],
        &[prop("exchange", Kind::OnlineOrFqdn), INITIATES],
    ),
    SQL_INSTANCE,
    WINDOWS_FIREWALL,
];

const INFRA_SERVER_CHILDREN: &[NodeSpec] = &[
    SQL_INSTANCE,
    node(
        "domain-controller",
        &[],
        &[prop_default("global-catalog", Kind::Bool, "#true")],
    ),
    node("certificate-authority", &[], &[]),
    node("ndes-server", &[], &[]),
    node(
        "wsus-server",
        &[],
        &[
            prop_default("http", Kind::Port, "8530"),
            prop_default("https", Kind::Port, "8531"),
        ],
    ),
    node("file-server", &[], &[]),
    node("exchange-server", &[], &[]),
    WINDOWS_FIREWALL,
];

const CLIENTS_CHILDREN: &[NodeSpec] = &[WINDOWS_FIREWALL];

const BOUNDARY_GROUP_CHILDREN: &[NodeSpec] = &[
    NodeSpec {
        name: "boundary",
        args: &[ArgSpec {
            what: "subnet, prefix or range",
            kind: Kind::Boundary,
            required: false,
            repeat: false,
        }],
        props: &[prop("ad-site", Kind::Text)],
        children: Context::Leaf,
    },
    node("site-system", &[arg("FQDN", Kind::Fqdn)], &[]),
    node(
        "fallback",
        &[arg("boundary group", Kind::Text)],
        &[
            prop_default("distribution-point", Kind::Minutes, "120"),
            prop_default("software-update-point", Kind::Minutes, "120"),
            prop_default("management-point", Kind::Minutes, "0"),
        ],
    ),
];

const HOST_RULE_ARGS: &[ArgSpec] = &[arg("direction", Kind::Enum(DIRECTIONS)), RULE_NAME];
const WINDOWS_FIREWALL_CHILDREN: &[NodeSpec] = &[
    node("allow", HOST_RULE_ARGS, HOST_RULE_PROPS),
    node("block", HOST_RULE_ARGS, HOST_RULE_PROPS),
];

const FIREWALL_CHILDREN: &[NodeSpec] = &[
    node(
        "zones",
        &[ArgSpec {
            what: "zone name",
            kind: Kind::Text,
            required: true,
            repeat: true,
        }],
        &[],
    ),
    node("allow", &[RULE_NAME], TRAFFIC_PROPS),
    node("deny", &[RULE_NAME], TRAFFIC_PROPS),
];

const POLICY_CHILDREN: &[NodeSpec] = &[
    node("forbid", &[], TRAFFIC_PROPS),
    node("message", &[arg("text", Kind::Text)], &[]),
];

const LINT_CHILDREN: &[NodeSpec] = &[node(
    "severity",
    &[
        arg("rule code", Kind::Text),
        arg("severity", Kind::Enum(LINT_LEVELS)),
    ],
    &[],
)];

/// `suppress "CODE" reason="..."`, allowed as a child of any node.
pub const SUPPRESS: NodeSpec = node(
    "suppress",
    &[arg("rule code", Kind::Text)],
    &[required("reason", Kind::Text)],
);

/// The symbolic ports of the catalog (`docs/catalog.md`).
pub const SYMBOLIC_PORTS: &[&str] = &[
    "client-http",
    "client-https",
    "client-notification",
    "wake-on-lan",
    "wake-up-proxy",
    "wsus-http",
    "wsus-https",
    "rsp-http",
    "rsp-https",
    "sql",
    "sql-broker",
    "rpc-dynamic",
];

/// Relations of the catalog (`docs/catalog.md`).
pub const RELATIONS: &[&str] = &[
    "site",
    "same-group",
    "site-database",
    "data-warehouse",
    "susdb",
    "install-database",
    "parent-child",
    "hierarchy",
    "top-level",
    "upstream",
    "content-library",
    "exchange",
    "own-susdb",
    "pull-sources",
];

const PHASES: &[&str] = &["operation", "install", "client-install"];
const FLOW_DIRECTIONS: &[&str] = &["-->", "<-->"];

const CATALOG_FLOW_PROPS: [PropSpec; 6] = [
    prop("from", Kind::Text),
    prop("to", Kind::Text),
    PropSpec {
        name: "relation",
        kind: Kind::Enum(RELATIONS),
        required: false,
        default: Some("site"),
    },
    PropSpec {
        name: "direction",
        kind: Kind::Enum(FLOW_DIRECTIONS),
        required: false,
        default: Some("-->"),
    },
    PropSpec {
        name: "phase",
        kind: Kind::Enum(PHASES),
        required: false,
        default: Some("operation"),
    },
    prop("when", Kind::Text),
];

const CATALOG_TOP: &[NodeSpec] = &[
    NodeSpec {
        name: "section",
        args: &[arg("seed anchor", Kind::Text)],
        props: &[
            required("seed", Kind::Text),
            required("title", Kind::Text),
            CATALOG_FLOW_PROPS[0],
            CATALOG_FLOW_PROPS[1],
            CATALOG_FLOW_PROPS[2],
            CATALOG_FLOW_PROPS[3],
            CATALOG_FLOW_PROPS[4],
            CATALOG_FLOW_PROPS[5],
            prop("url", Kind::Text),
        ],
        children: Context::CatalogSection,
    },
    node(
        "remove",
        &[arg("seed anchor", Kind::Text)],
        &[required("reason", Kind::Text)],
    ),
    node(
        "removed-role",
        &[arg("role", Kind::Text)],
        &[required("reason", Kind::Text)],
    ),
    node(
        "not-applicable",
        &[arg("seed anchor", Kind::Text)],
        &[
            required("seed", Kind::Text),
            required("row", Kind::Text),
            required("reason", Kind::Text),
        ],
    ),
];

const CATALOG_SECTION: &[NodeSpec] = &[node(
    "row",
    &[arg("service", Kind::Text)],
    &[
        prop("tcp", Kind::CatalogPort),
        prop("udp", Kind::CatalogPort),
        PropSpec {
            name: "icmp",
            kind: Kind::Enum(&["echo"]),
            required: false,
            default: None,
        },
        prop("seed-row", Kind::Text),
        prop("broadcast", Kind::Bool),
        CATALOG_FLOW_PROPS[0],
        CATALOG_FLOW_PROPS[1],
        CATALOG_FLOW_PROPS[2],
        CATALOG_FLOW_PROPS[3],
        CATALOG_FLOW_PROPS[4],
        CATALOG_FLOW_PROPS[5],
    ],
)];

impl Context {
    /// The nodes allowed in this context (besides `suppress`, allowed everywhere but the
    /// top level).
    pub fn nodes(self) -> &'static [NodeSpec] {
        match self {
            Context::TopLevel => TOP_LEVEL,
            Context::Zone => ZONE_CHILDREN,
            Context::Site => SITE_CHILDREN,
            Context::SiteServer => SITE_SERVER_CHILDREN,
            Context::InfraServer => INFRA_SERVER_CHILDREN,
            Context::Clients => CLIENTS_CHILDREN,
            Context::BoundaryGroup => BOUNDARY_GROUP_CHILDREN,
            Context::WindowsFirewall => WINDOWS_FIREWALL_CHILDREN,
            Context::Firewall => FIREWALL_CHILDREN,
            Context::Policy => POLICY_CHILDREN,
            Context::Lint => LINT_CHILDREN,
            Context::CatalogChoice => CATALOG_CHOICE_CHILDREN,
            Context::Leaf => &[],
            Context::Catalog => CATALOG_TOP,
            Context::CatalogSection => CATALOG_SECTION,
        }
    }

    pub fn find(self, name: &str) -> Option<&'static NodeSpec> {
        if name == SUPPRESS.name
            && !matches!(
                self,
                Context::TopLevel | Context::Catalog | Context::CatalogSection
            )
        {
            return Some(&SUPPRESS);
        }
        self.nodes().iter().find(|n| n.name == name)
    }

    /// Every context of the user language, for tests and the schema comparison.
    pub const ALL: &'static [Context] = &[
        Context::TopLevel,
        Context::Zone,
        Context::Site,
        Context::SiteServer,
        Context::InfraServer,
        Context::Clients,
        Context::BoundaryGroup,
        Context::WindowsFirewall,
        Context::Firewall,
        Context::Policy,
        Context::Lint,
        Context::CatalogChoice,
        Context::Leaf,
    ];
}

/// Site system role node names (children of a site's `server` that are roles).
pub fn site_role_names() -> impl Iterator<Item = &'static str> {
    SITE_SERVER_CHILDREN
        .iter()
        .map(|n| n.name)
        .filter(|n| !matches!(*n, "sql-instance" | "windows-firewall"))
}

/// Infrastructure role node names (children of a top-level `server` that are roles).
pub fn infra_role_names() -> impl Iterator<Item = &'static str> {
    INFRA_SERVER_CHILDREN
        .iter()
        .map(|n| n.name)
        .filter(|n| !matches!(*n, "sql-instance" | "windows-firewall"))
}

/// The roles `role:` endpoints may name: every role node, and `sql-server` (every server
/// holding a `sql-instance`).
pub fn endpoint_role_names() -> impl Iterator<Item = &'static str> {
    site_role_names()
        .chain(infra_role_names())
        .chain(["sql-server"])
}
