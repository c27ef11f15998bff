//! `firewall/indeterminate`: whether a rule matches a required flow cannot be decided
//! from the model, so the flow's verdict is `indeterminate`. One diagnostic per rule and
//! pair of endpoints.

use super::context::{Context, flow_part, short_list_of};
use crate::diag::{Diagnostic, Label, RuleInfo, Severity};
use crate::engine::{DecidedBy, Filter, FlowEndpoint, Outcome, Place, Tri};
use crate::model::{Endpoint, Traffic};

pub static RULE: RuleInfo = RuleInfo {
    code: "firewall/indeterminate",
    default_severity: Severity::Warning,
    summary: "Whether a rule matches a required flow cannot be decided from the model",
    docs: r#"## What it does
A `cidr:` endpoint names the hosts whose `address` lies inside the range, and the zones
all of whose `subnet`s do. For a host with no `address` in a zone with no `subnet` (or
with subnets only partly inside the range), cmflow cannot tell whether the rule matches.
The flow's verdict is then `indeterminate`, never silently allowed or blocked, and this
warning names the rule and the host.

## Why
A firewall check that guesses is worse than none: it would either hide a blocked flow or
report one that is not. The fix is to give the model the facts the rule relies on.

## Example that fails
```kdl
zone "branch"
server "dp-br01.contoso.com" zone="branch" { distribution-point }
firewall "fw-core" default="deny" {
    zones "hq" "branch"
    allow "to branch DPs" from="zone:hq" to="cidr:10.20.0.0/16" tcp="80,443"
}
```

## Fixed example
```kdl
zone "branch" { subnet "10.20.0.0/16" }
```
or give the server an `address="10.20.1.5"`.
"#,
};

pub fn check(cx: &Context<'_, '_>, out: &mut Vec<Diagnostic>) {
    let groups = cx.decisions_by_deciding_rule(Outcome::Unknown, |_, _| true);
    let model = cx.model;
    for ((filter, by, source, destination), parts) in groups {
        let (why, help) = reason(cx, filter, by, source, destination);
        let message = format!(
            "cannot tell whether {} matches {} -> {}: {why}; affected: {}",
            cx.decider_name(filter, by),
            source.name(model),
            destination.name(model),
            short_list_of(&parts, 4, |(f, p)| flow_part(model, f, *p)),
        );
        let mut d = Diagnostic::new(
            &RULE,
            message,
            Label::new(
                cx.decider_span(filter, by),
                "this rule may or may not match",
            ),
        );
        // A construct inside the rule's own span is already under its label (the
        // renderers cannot show a label nested in another); `source/unsupported` points
        // at it. One outside (a conditional RETURN above) gets its own.
        let primary = cx.decider_span(filter, by);
        if let Some(at) = uncertain_span(cx, filter, by).filter(|at| {
            at.source != primary.source || at.start < primary.start || at.end > primary.end
        }) {
            d = d.with_label(Label::new(at, "cmflow cannot represent this"));
        }
        if let Some(label) = cx.requirement(parts[0].0) {
            d = d.with_label(label);
        }
        out.push(d.with_help(help));
    }
}

/// The construct of a rule read from a source file that makes its match unknown.
fn uncertain_span(
    cx: &Context<'_, '_>,
    filter: Filter,
    by: DecidedBy,
) -> Option<crate::model::Span> {
    let DecidedBy::Rule(i) = by else {
        return None;
    };
    match filter {
        Filter::Network(f) => cx.model.firewalls[f].rules[i].uncertain,
        _ => filter.host_firewall(cx.model)?.rules[i].uncertain,
    }
}

/// Which `cidr:` endpoint of the rule is undecidable for which host (or which construct
/// of its source file cmflow cannot represent), and the fix.
fn reason(
    cx: &Context<'_, '_>,
    filter: Filter,
    by: DecidedBy,
    source: FlowEndpoint,
    destination: FlowEndpoint,
) -> (String, String) {
    let model = cx.model;
    if uncertain_span(cx, filter, by).is_some() {
        return (
            "the rule holds a construct of its source file that cmflow cannot represent exactly (`source/unsupported`)".to_owned(),
            "write the rule so that cmflow can read it (docs/sources/ lists what each format supports), or decide the flow in a rule above it".to_owned(),
        );
    }
    let traffic: Option<&Traffic> = match (filter, by) {
        (_, DecidedBy::Default) => None,
        (Filter::Network(f), DecidedBy::Rule(i)) => Some(&model.firewalls[f].rules[i].traffic),
        (_, DecidedBy::Rule(i)) => filter.host_firewall(model).map(|fw| &fw.rules[i].traffic),
    };
    let sides = traffic
        .into_iter()
        .flat_map(|t| [(&t.from, source), (&t.to, destination)]);
    for (list, host) in sides {
        for e in list {
            if let Endpoint::Cidr(net) = &e.value
                && cx.net.matches(&e.value, Place::Host(host)) == Tri::Maybe
            {
                let zone = host.zone(model);
                let why = format!(
                    "`cidr:{net}` and `{}` has no `address`, and the subnets of zone `{zone}` do not settle it",
                    host.name(model)
                );
                let help = format!(
                    "give `{}` an `address`, or zone \"{zone}\" `subnet`s that lie wholly inside or outside {net}",
                    host.name(model)
                );
                return (why, help);
            }
        }
    }
    (
        "the model does not give the addresses it needs".to_owned(),
        "give the hosts an `address`, or their zones `subnet`s".to_owned(),
    )
}
