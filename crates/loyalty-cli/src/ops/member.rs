//! `loyalty member find` and `loyalty member register`.

use std::path::Path;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use loyalty_core::{Consents, Context, Member, MemberId, MemberLookup, Phone, RegisterMember};

use crate::out;

/// `loyalty member …`.
#[derive(Debug, Subcommand)]
pub enum MemberCommand {
    /// Finds a member by phone, e-mail or the provider's id.
    Find(FindArgs),
    /// Registers a member with the consents they gave.
    Register(RegisterArgs),
}

/// Arguments of `loyalty member find` (exactly one key).
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("key").required(true).args(["phone", "email", "id"])))]
pub struct FindArgs {
    /// Phone in international form, e.g. +4741234567.
    #[arg(long)]
    phone: Option<String>,
    /// E-mail address.
    #[arg(long)]
    email: Option<String>,
    /// The provider's member id.
    #[arg(long)]
    id: Option<String>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Arguments of `loyalty member register`.
#[derive(Debug, Args)]
pub struct RegisterArgs {
    /// Phone in international form, e.g. +4741234567.
    #[arg(long)]
    phone: Option<String>,
    /// E-mail address.
    #[arg(long)]
    email: Option<String>,
    /// Given name.
    #[arg(long)]
    first_name: Option<String>,
    /// Family name.
    #[arg(long)]
    last_name: Option<String>,
    /// Consents given, comma separated: membership, order_history, marketing_sms,
    /// marketing_email.
    #[arg(long, value_delimiter = ',')]
    consent: Vec<String>,
    /// Department or store.
    #[arg(long)]
    department: Option<String>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Parses an international phone number, or says why not.
pub fn phone(text: &str) -> Result<Phone, String> {
    Phone::parse_e164(text)
        .ok_or_else(|| format!("--phone {text:?}: expected an international number such as +4741234567"))
}

/// One readable line per member fact, each made safe for a terminal ([`out::safe_line`]): the
/// names and e-mail are the provider's text.
pub fn describe(m: &Member) -> Vec<String> {
    let name =
        [m.first_name.as_deref(), m.last_name.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" ");
    let mut lines = vec![format!(
        "member    {} {}",
        m.id,
        if name.is_empty() { String::new() } else { format!("({name})") }
    )];
    if let Some(p) = &m.phone {
        lines.push(format!("phone     {}", p.e164()));
    }
    if let Some(e) = &m.email {
        lines.push(format!("e-mail    {e}"));
    }
    if let Some(points) = m.points {
        lines.push(format!("points    {points}"));
    }
    if let Some(tier) = &m.tier {
        lines.push(format!("tier      {tier}"));
    }
    let c = &m.consents;
    let given: Vec<&str> = [
        (c.membership, "membership"),
        (c.order_history, "order history"),
        (c.marketing_sms, "marketing by SMS"),
        (c.marketing_email, "marketing by e-mail"),
    ]
    .into_iter()
    .filter(|(on, _)| *on)
    .map(|(_, n)| n)
    .collect();
    lines.push(format!("consents  {}", if given.is_empty() { "none".to_string() } else { given.join(", ") }));
    lines.iter().map(|l| out::safe_line(l)).collect()
}

/// Runs a member command.
pub fn execute(config: &Path, command: &MemberCommand) -> ExitCode {
    match command {
        MemberCommand::Find(args) => find(config, args),
        MemberCommand::Register(args) => register(config, args),
    }
}

fn find(config: &Path, args: &FindArgs) -> ExitCode {
    let lookup = match (&args.phone, &args.email, &args.id) {
        (Some(p), _, _) => match phone(p) {
            Ok(p) => MemberLookup::Phone(p),
            Err(e) => return out::bad_input(e),
        },
        (_, Some(e), _) => MemberLookup::Email(e.clone()),
        (_, _, Some(id)) => MemberLookup::ProviderId(MemberId::new(id.clone())),
        _ => return out::bad_input("give --phone, --email or --id"),
    };
    let json = args.json;
    super::with_opened(config, |opened| async move {
        let Some(members) = opened.provider.members() else {
            return out::fail(&loyalty_core::Error::unsupported(opened.provider.name(), "members.find"));
        };
        match members.find(&Context::new(), &lookup).await {
            Ok(Some(m)) if json => {
                out::json(&m);
                ExitCode::SUCCESS
            }
            Ok(Some(m)) => {
                describe(&m).iter().for_each(out::line);
                ExitCode::SUCCESS
            }
            Ok(None) => {
                if json {
                    out::line("null");
                } else {
                    out::line("no member found");
                }
                ExitCode::from(1)
            }
            Err(e) => out::fail(&e),
        }
    })
}

fn register(config: &Path, args: &RegisterArgs) -> ExitCode {
    let mut consents = Consents::default();
    for c in &args.consent {
        match c.trim() {
            "membership" => consents.membership = true,
            "order_history" => consents.order_history = true,
            "marketing_sms" => consents.marketing_sms = true,
            "marketing_email" => consents.marketing_email = true,
            other => {
                return out::bad_input(format!(
                "--consent {other:?}: expected membership, order_history, marketing_sms or marketing_email"
            ))
            }
        }
    }
    let contacts =
        [("--email", &args.email), ("--first-name", &args.first_name), ("--last-name", &args.last_name)];
    for (flag, text) in contacts {
        if let Some(reason) = text.as_deref().and_then(loyalty_core::member::contact_text_fault) {
            return out::bad_input(format!("{flag}: {reason}"));
        }
    }
    let mut req = RegisterMember::new().with_consents(consents);
    if let Some(p) = &args.phone {
        match phone(p) {
            Ok(p) => req = req.with_phone(p),
            Err(e) => return out::bad_input(e),
        }
    }
    if let Some(e) = &args.email {
        req = req.with_email(e.clone());
    }
    if args.first_name.is_some() || args.last_name.is_some() {
        req = req.with_name(
            args.first_name.clone().unwrap_or_default(),
            args.last_name.clone().unwrap_or_default(),
        );
    }
    if let Some(d) = &args.department {
        req = req.with_department(d.clone());
    }
    let json = args.json;
    super::with_opened(config, |opened| async move {
        let Some(members) = opened.provider.members() else {
            return out::fail(&loyalty_core::Error::unsupported(opened.provider.name(), "members.register"));
        };
        match members.register(&Context::new(), &req).await {
            Ok(m) if json => {
                out::json(&m);
                ExitCode::SUCCESS
            }
            Ok(m) => {
                describe(&m).iter().for_each(out::line);
                ExitCode::SUCCESS
            }
            Err(e) => out::fail(&e),
        }
    })
}

#[cfg(test)]
mod tests {
    use loyalty_core::{Member, MemberId};

    use super::describe;

    /// A member's names and e-mail are the vendor's text, printed escaped like an error line.
    #[test]
    fn a_members_control_characters_are_shown_escaped() {
        let mut m = Member::new(MemberId::new("m-1"));
        m.first_name = Some("Kari\u{1b}]0;owned\u{7}".into());
        m.email = Some("kari@example.com\r\nX-Injected: 1".into());
        let lines = describe(&m);
        assert!(lines.iter().all(|l| !l.chars().any(char::is_control)), "{lines:?}");
        assert!(lines[0].contains("Kari\\u{1b}]0;owned\\u{7}"), "{lines:?}");
        assert!(lines.iter().any(|l| l.contains("kari@example.com\\r\\nX-Injected: 1")), "{lines:?}");
    }
}
