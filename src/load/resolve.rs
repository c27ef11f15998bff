//! Joins the files' entities into one model, builds the name index, and reports
//! duplicate names and references to nothing (with the closest existing name).

use std::collections::HashMap;

use super::build::FileModel;
use super::codes::{DUPLICATE_NAME, INVALID_VALUE, MISSING_VALUE, UNKNOWN_REFERENCE};
use super::vocabulary::endpoint_role_names;
use crate::diag::{Diagnostic, Label, did_you_mean};
use crate::model::{Endpoint, Index, InstanceRef, Model, SourceMap, Span, Spanned, Traffic};

/// The zone every model has, whether declared or not.
pub const INTERNET: &str = "internet";

pub fn merge(
    model: &mut Model,
    files: Vec<FileModel>,
    diags: &mut Vec<Diagnostic>,
    known_codes: &[&str],
) {
    for f in files {
        model.zones.extend(f.zones);
        for (mut site, servers) in f.sites {
            let site_id = model.sites.len();
            for mut server in servers {
                server.site = Some(site_id);
                site.servers.push(model.servers.len());
                model.servers.push(server);
            }
            model.sites.push(site);
        }
        model.servers.extend(f.servers);
        model.clients.extend(f.clients);
        model.consoles.extend(f.consoles);
        model.cloud_services.extend(f.cloud_services);
        model.firewalls.extend(f.firewalls);
        model.policies.extend(f.policies);
        model.flows.extend(f.flows);
        model.boundary_groups.extend(f.boundary_groups);
        model.waivers.extend(f.waivers);
        for (o, code) in f.severity_overrides {
            check_code(&model.sources, &code, known_codes, diags);
            model.severity_overrides.push(o);
        }
        for choice in f.catalogs {
            match model.catalog.span {
                Some(first) => {
                    if let Some(span) = choice.span {
                        diags.push(
                            Diagnostic::new(
                                &DUPLICATE_NAME,
                                "the model has two `catalog` nodes".to_owned(),
                                Label::new(span, "declared again here"),
                            )
                            .with_label(Label::new(first, "first declared here"))
                            .with_help(
                                "keep one `catalog` node: the model has one catalog edition",
                            ),
                        );
                    }
                }
                None => model.catalog = choice,
            }
        }
        for (s, code_span) in f.suppressions {
            check_code(
                &model.sources,
                &Spanned::new(s.code.clone(), code_span),
                known_codes,
                diags,
            );
            model.suppressions.push(s);
        }
    }
    model.index = build_index(model, diags);
    check_references(model, diags);
}

fn check_code(
    sources: &SourceMap,
    code: &Spanned<String>,
    known: &[&str],
    diags: &mut Vec<Diagnostic>,
) {
    if !known.contains(&code.value.as_str()) {
        diags.push(unknown(
            sources,
            code.span,
            "rule code",
            &code.value,
            known.iter().copied(),
        ));
    }
}

/// Indexes names, reporting duplicates (the first declaration wins).
fn build_index(model: &Model, diags: &mut Vec<Diagnostic>) -> Index {
    fn index<'a>(
        what: &str,
        items: impl Iterator<Item = &'a Spanned<String>>,
        key: impl Fn(&str) -> String,
        reported_elsewhere: impl Fn(usize, usize) -> bool,
        diags: &mut Vec<Diagnostic>,
    ) -> HashMap<String, usize> {
        let mut map: HashMap<String, usize> = HashMap::new();
        let mut spans: Vec<Span> = Vec::new();
        for (i, name) in items.enumerate() {
            spans.push(name.span);
            let k = key(&name.value);
            if let Some(&first) = map.get(&k) {
                if reported_elsewhere(first, i) {
                    continue;
                }
                diags.push(
                    Diagnostic::new(
                        &DUPLICATE_NAME,
                        format!("{what} `{}` is declared twice", name.value),
                        Label::new(name.span, "declared again here"),
                    )
                    .with_label(Label::new(spans[first], "first declared here"))
                    .with_help(format!(
                        "give each {what} its own name, or merge the two declarations"
                    )),
                );
            } else {
                map.insert(k, i);
            }
        }
        map
    }
    let same = |s: &str| s.to_owned();
    let never = |_: usize, _: usize| false;
    // A server declared in two sites is `hierarchy/server-in-two-sites`, a rule of its own.
    let in_two_sites = |a: usize, b: usize| {
        matches!(
            (model.servers[a].site, model.servers[b].site),
            (Some(x), Some(y)) if model.sites[x].code.value != model.sites[y].code.value
        )
    };
    let mut default_boundary_groups = HashMap::new();
    for (i, g) in model.boundary_groups.iter().enumerate() {
        if let Some(site) = &g.default_for {
            default_boundary_groups
                .entry(site.value.clone())
                .or_insert(i);
        }
    }
    let idx = Index {
        default_boundary_groups,
        zones: index(
            "zone",
            model.zones.iter().map(|z| &z.name),
            same,
            never,
            diags,
        ),
        sites: index(
            "site",
            model.sites.iter().map(|s| &s.code),
            same,
            never,
            diags,
        ),
        servers: index(
            "server",
            model.servers.iter().map(|s| &s.fqdn),
            str::to_ascii_lowercase,
            in_two_sites,
            diags,
        ),
        clients: index(
            "client group",
            model.clients.iter().map(|c| &c.name),
            same,
            never,
            diags,
        ),
        consoles: index(
            "console",
            model.consoles.iter().map(|c| &c.name),
            same,
            never,
            diags,
        ),
        cloud_services: index(
            "cloud service",
            model.cloud_services.iter().map(|c| &c.name),
            same,
            never,
            diags,
        ),
        boundary_groups: index(
            "boundary group",
            model.boundary_groups.iter().map(|b| &b.name),
            same,
            never,
            diags,
        ),
    };
    let _ = index(
        "firewall",
        model.firewalls.iter().map(|f| &f.name),
        same,
        never,
        diags,
    );
    let _ = index(
        "policy",
        model.policies.iter().map(|p| &p.name),
        same,
        never,
        diags,
    );
    for server in &model.servers {
        let _ = index(
            &format!("SQL instance of {}", server.fqdn.value),
            server.sql_instances.iter().map(|i| &i.name),
            str::to_ascii_lowercase,
            never,
            diags,
        );
    }
    idx
}

fn unknown<'a>(
    sources: &SourceMap,
    span: Span,
    what: &str,
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Diagnostic {
    let d = Diagnostic::new(
        &UNKNOWN_REFERENCE,
        format!("{what} `{name}` does not exist"),
        Label::new(span, format!("no such {what}")),
    );
    match did_you_mean(name, candidates) {
        Some(s) => suggest(sources, d, span, name, s),
        None => d,
    }
}

/// `d` with the help "did you mean `suggestion`?" and, when the written name can be
/// replaced with certainty, the fix that does it (replacing any earlier suggestion).
fn suggest(
    sources: &SourceMap,
    mut d: Diagnostic,
    span: Span,
    name: &str,
    suggestion: &str,
) -> Diagnostic {
    d.help = Some(format!("did you mean `{suggestion}`?"));
    d.fix = crate::diag::fix::rename(&sources.get(span.source).text, span, name, suggestion);
    d
}

struct Resolver<'m> {
    model: &'m Model,
    diags: Vec<Diagnostic>,
}

impl Resolver<'_> {
    fn zone(&mut self, name: &Spanned<String>) {
        if name.value != INTERNET && !self.model.index.zones.contains_key(&name.value) {
            let names = self
                .model
                .zones
                .iter()
                .map(|z| z.name.value.as_str())
                .chain([INTERNET]);
            self.diags.push(unknown(
                &self.model.sources,
                name.span,
                "zone",
                &name.value,
                names,
            ));
        }
    }

    fn site(&mut self, code: &Spanned<String>) {
        if !self.model.index.sites.contains_key(&code.value) {
            let names = self.model.sites.iter().map(|s| s.code.value.as_str());
            self.diags.push(unknown(
                &self.model.sources,
                code.span,
                "site",
                &code.value,
                names,
            ));
        }
    }

    fn server(&mut self, fqdn: &str, span: Span) -> bool {
        if self.model.server_id(fqdn).is_some() {
            return true;
        }
        let names = self.model.servers.iter().map(|s| s.fqdn.value.as_str());
        self.diags
            .push(unknown(&self.model.sources, span, "server", fqdn, names));
        false
    }

    /// A distribution point's `sources` (each a distribution point other than itself,
    /// `schema/unknown-reference`), and the switches that need another: `sources` needs
    /// `pull=#true`, `pxe-responder=#true` needs `pxe=#true` (`schema/missing-value`).
    fn distribution_point(&mut self, server: &crate::model::Server, role: &crate::model::Role) {
        let model = self.model;
        let distribution_points = || {
            model
                .servers
                .iter()
                .filter(|s| s.has_role("distribution-point") && s.fqdn.value != server.fqdn.value)
                .map(|s| s.fqdn.value.as_str())
        };
        if let Some(v) = role.props.get("sources")
            && let crate::model::Value::Str(list) = &v.value
        {
            if !role.props.bool("pull") {
                self.diags.push(
                    Diagnostic::new(
                        &MISSING_VALUE,
                        format!(
                            "distribution point {} has `sources` but is not a pull distribution point",
                            server.fqdn.value
                        ),
                        Label::new(v.span, "sources of a pull distribution point, without `pull=#true`"),
                    )
                    .with_help(
                        "add pull=#true (the distribution point downloads its content from \
                         these sources), or remove `sources`",
                    ),
                );
            }
            let mut offset = 0;
            for entry in list.split(',') {
                let span = self.entry_span(v.span, list, offset, entry.len());
                offset += entry.len() + 1;
                let entry = entry.trim();
                if !self.server(entry, span) {
                    // `server` reported it; suggest among distribution points rather
                    // than among all servers when one is closer.
                    if let Some(d) = self.diags.pop() {
                        let d = match did_you_mean(entry, distribution_points()) {
                            Some(s) => suggest(&model.sources, d, span, entry, s),
                            None => d,
                        };
                        self.diags.push(d);
                    }
                    continue;
                }
                let Some(source) = model.server(entry) else {
                    continue;
                };
                if source.fqdn.value.eq_ignore_ascii_case(&server.fqdn.value) {
                    self.diags.push(
                        Diagnostic::new(
                            &UNKNOWN_REFERENCE,
                            format!(
                                "pull distribution point {} names itself as a source",
                                server.fqdn.value
                            ),
                            Label::new(span, "itself"),
                        )
                        .with_help("name the distribution points it downloads content from"),
                    );
                } else if !source.has_role("distribution-point") {
                    // Name the distribution points (a closest name among them would
                    // suggest an unrelated server with a similar name).
                    let mut dps: Vec<&str> = distribution_points().collect();
                    dps.sort_unstable();
                    let shown = dps.len().min(3);
                    let more = if dps.len() > shown {
                        format!(" and {} more", dps.len() - shown)
                    } else {
                        String::new()
                    };
                    let help = if dps.is_empty() {
                        format!(
                            "add `distribution-point` to {entry}: a pull distribution point's sources are distribution points"
                        )
                    } else {
                        format!(
                            "a pull distribution point's sources are distribution points: name one of {}{more}, or add `distribution-point` to {entry}",
                            dps[..shown].join(", ")
                        )
                    };
                    self.diags.push(
                        Diagnostic::new(
                            &UNKNOWN_REFERENCE,
                            format!(
                                "source `{entry}` of pull distribution point {} holds no `distribution-point`",
                                server.fqdn.value
                            ),
                            Label::new(span, "not a distribution point"),
                        )
                        .with_help(help),
                    );
                }
            }
        }
        if let Some(v) = role.props.get("pxe-responder")
            && v.value == crate::model::Value::Bool(true)
            && !role.props.bool("pxe")
        {
            self.diags.push(
                Diagnostic::new(
                    &MISSING_VALUE,
                    format!(
                        "distribution point {} has a PXE responder but no PXE support",
                        server.fqdn.value
                    ),
                    Label::new(v.span, "a kind of PXE, without `pxe=#true`"),
                )
                .with_help(
                    "add pxe=#true (Enable PXE support for clients), or remove pxe-responder",
                ),
            );
        }
    }

    /// The span of one entry of a comma-separated string value: its characters when the
    /// value is written as a plain quoted string, else the whole value.
    fn entry_span(&self, value: Span, text: &str, offset: usize, len: usize) -> Span {
        let file = self.model.sources.get(value.source);
        let written = file.text.get(value.start..value.end).unwrap_or_default();
        if written.len() == text.len() + 2 && written.get(1..=text.len()) == Some(text) {
            Span::new(
                value.source,
                value.start + 1 + offset,
                value.start + 1 + offset + len,
            )
        } else {
            value
        }
    }

    fn instance(&mut self, r: &InstanceRef) {
        if !self.server(&r.server.value, r.server.span) {
            return;
        }
        if self.model.instance(r).is_none() {
            let server = self.model.server(&r.server.value).map(|s| &s.sql_instances);
            let names = server.into_iter().flatten().map(|i| i.name.value.as_str());
            let mut d = unknown(
                &self.model.sources,
                r.instance.span,
                "SQL instance",
                &r.instance.value,
                names,
            );
            d.message = format!(
                "{} has no SQL instance `{}`",
                r.server.value, r.instance.value
            );
            if d.help.is_none() {
                d = d.with_help(format!(
                    "declare it: sql-instance \"{}\" port=... on {}",
                    r.instance.value, r.server.value
                ));
            }
            self.diags.push(d);
        }
    }

    /// `"FQDN/INSTANCE"` values: resolve the server, then the instance.
    fn instance_str(&mut self, value: &Spanned<crate::model::Value>) {
        let crate::model::Value::Str(s) = &value.value else {
            return;
        };
        let Some((host, inst)) = s.split_once('/') else {
            return;
        };
        let r = InstanceRef {
            server: Spanned::new(host.to_owned(), value.span),
            instance: Spanned::new(inst.to_owned(), value.span),
        };
        self.instance(&r);
    }

    fn traffic(&mut self, t: &Traffic) {
        for e in t.from.iter().chain(&t.to) {
            self.endpoint(e);
        }
    }

    fn endpoint(&mut self, e: &Spanned<Endpoint>) {
        let m = self.model;
        match &e.value {
            Endpoint::Any | Endpoint::Cidr(_) => {}
            Endpoint::Zone(z) => self.zone(&Spanned::new(z.clone(), e.span)),
            Endpoint::Site(s) => self.site(&Spanned::new(s.clone(), e.span)),
            Endpoint::Clients(c) => {
                if !m.index.clients.contains_key(c) {
                    self.diags.push(unknown(
                        &self.model.sources,
                        e.span,
                        "client group",
                        c,
                        m.clients.iter().map(|c| c.name.value.as_str()),
                    ));
                }
            }
            Endpoint::Host(h) => {
                let known = m.server_id(h).is_some()
                    || m.index.consoles.contains_key(h)
                    || m.index.cloud_services.contains_key(h);
                if !known {
                    let names = m
                        .servers
                        .iter()
                        .map(|s| s.fqdn.value.as_str())
                        .chain(m.consoles.iter().map(|c| c.name.value.as_str()))
                        .chain(m.cloud_services.iter().map(|c| c.name.value.as_str()));
                    self.diags
                        .push(unknown(&self.model.sources, e.span, "host", h, names));
                }
            }
            Endpoint::Role { role, site } => {
                if !endpoint_role_names().any(|r| r == role) {
                    self.diags.push(unknown(
                        &self.model.sources,
                        e.span,
                        "role",
                        role,
                        endpoint_role_names(),
                    ));
                }
                if let Some(s) = site {
                    self.site(&Spanned::new(s.clone(), e.span));
                }
            }
        }
    }
}

impl Resolver<'_> {
    fn boundary_group(&mut self, name: &Spanned<String>) {
        if !self.model.index.boundary_groups.contains_key(&name.value) {
            let names = self
                .model
                .boundary_groups
                .iter()
                .map(|b| b.name.value.as_str());
            self.diags.push(unknown(
                &self.model.sources,
                name.span,
                "boundary group",
                &name.value,
                names,
            ));
        }
    }
}

/// What is wrong with a reference to an endpoint of a loaded model (an unknown zone,
/// host, role, site or client group, with a "did you mean" help), as diagnostics on the
/// endpoint's span; empty when it names something that exists. `flows --from/--to` use
/// it for their filters.
pub fn endpoint_problems(model: &Model, e: &Spanned<Endpoint>) -> Vec<Diagnostic> {
    let mut r = Resolver {
        model,
        diags: Vec::new(),
    };
    r.endpoint(e);
    r.diags
}

fn check_references(model: &Model, diags: &mut Vec<Diagnostic>) {
    let mut r = Resolver {
        model,
        diags: Vec::new(),
    };
    for site in &model.sites {
        if let Some(p) = &site.parent {
            r.site(p);
        }
        if let Some((db, _)) = &site.database {
            r.instance(db);
        }
        if let Some(cl) = &site.content_library {
            r.server(&cl.value, cl.span);
        }
    }
    for server in &model.servers {
        r.zone(&server.zone);
        for role in &server.roles {
            if let Some(v) = role.props.get("upstream")
                && let crate::model::Value::Str(s) = &v.value
                && s != INTERNET
                && r.server(s, v.span)
            {
                let up = model
                    .server(s)
                    .filter(|u| u.has_role("wsus-server") || u.has_role("software-update-point"));
                if up.is_none() {
                    r.diags.push(
                        Diagnostic::new(&UNKNOWN_REFERENCE, format!("upstream `{s}` holds no `wsus-server` or `software-update-point`"), Label::new(v.span, "not a WSUS server"))
                            .with_help("name a server with `wsus-server` or a software update point, or write upstream=\"internet\""),
                    );
                }
            }
            for key in ["susdb", "database"] {
                if let Some(v) = role.props.get(key) {
                    r.instance_str(v);
                }
            }
            if role.name == "distribution-point" {
                r.distribution_point(server, role);
            }
            if let Some(v) = role.props.get("exchange")
                && let crate::model::Value::Str(s) = &v.value
                && s != "online"
            {
                r.server(s, v.span);
            }
        }
        if let Some(fw) = &server.host_firewall {
            for rule in &fw.rules {
                r.traffic(&rule.traffic);
            }
        }
    }
    for c in &model.clients {
        r.site(&c.site);
        r.zone(&c.zone);
        if let Some(fw) = &c.host_firewall {
            for rule in &fw.rules {
                r.traffic(&rule.traffic);
            }
        }
    }
    for c in &model.clients {
        for b in &c.boundary_groups {
            r.boundary_group(b);
        }
        // `subnet`: CIDRs inside the zone's subnets (when the zone declares some).
        if let Some(zone) = model.zone(&c.zone.value).filter(|z| !z.subnets.is_empty()) {
            for net in &c.subnets {
                if !zone.subnets.iter().any(|z| z.value.contains(&net.value)) {
                    r.diags.push(
                        Diagnostic::new(
                            &INVALID_VALUE,
                            format!(
                                "subnet {} of client group `{}` is not inside a subnet of zone `{}`",
                                net.value, c.name.value, zone.name.value
                            ),
                            Label::new(net.span, "outside the zone"),
                        )
                        .with_label(Label::new(zone.name.span, "the zone's subnets"))
                        .with_help("correct the subnet, or add it to the zone"),
                    );
                }
            }
        }
    }
    for c in &model.consoles {
        if let (Some(address), Some(zone)) = (
            c.address,
            model.zone(&c.zone.value).filter(|z| !z.subnets.is_empty()),
        ) && !zone.subnets.iter().any(|z| z.value.contains(&address))
        {
            r.diags.push(
                Diagnostic::new(
                    &INVALID_VALUE,
                    format!(
                        "address {address} of console `{}` is not inside a subnet of zone `{}`",
                        c.name.value, zone.name.value
                    ),
                    Label::new(c.name.span, "outside its zone"),
                )
                .with_label(Label::new(zone.name.span, "the zone's subnets"))
                .with_help("correct the address, or the console's zone"),
            );
        }
    }
    for c in &model.consoles {
        r.site(&c.site);
        r.zone(&c.zone);
    }
    for b in &model.boundary_groups {
        for site in b.site.iter().chain(&b.default_for) {
            r.site(site);
        }
        for s in &b.site_systems {
            r.server(&s.value, s.span);
        }
        for f in &b.fallbacks {
            r.boundary_group(&f.to);
        }
    }
    for w in &model.waivers {
        r.traffic(&w.traffic);
    }
    for c in &model.cloud_services {
        r.site(&c.site);
    }
    for fw in &model.firewalls {
        for z in &fw.zones {
            r.zone(z);
        }
        for rule in &fw.rules {
            r.traffic(&rule.traffic);
        }
    }
    for p in &model.policies {
        for f in &p.forbids {
            r.traffic(&f.traffic);
        }
    }
    for f in &model.flows {
        r.traffic(&f.traffic);
    }
    diags.append(&mut r.diags);
}
