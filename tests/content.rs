//! The content truth table: checklists from the shipped Work 365 runbooks, for every profile
//! an engineer may have, read as the engineer who must follow them. Each rule below comes from
//! the seed articles (`../shared/seeds/`); adding a runbook or a fact may break this file and
//! the catalogue snapshot, and nothing else.

mod common;

use common::{runbook, steps};
use serde_json::Value;

/// The checklist for these facts, as JSON; `None` when the run fails with exit status 1.
fn checklist(facts: &[(&str, &str)]) -> Result<Value, String> {
    let mut cmd = runbook();
    cmd.args(["checklist", "--format", "json", "--explain"]);
    for (fact, value) in facts {
        cmd.args(["--set", &format!("{fact}={value}")]);
    }
    let out = cmd.output().unwrap();
    match out.status.code() {
        Some(0) => Ok(serde_json::from_slice(&out.stdout).unwrap()),
        Some(1) => Err(String::from_utf8_lossy(&out.stderr).into_owned()),
        other => panic!(
            "{facts:?}: exit {other:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

/// A profile with every fact given.
#[derive(Debug, Clone, Copy)]
struct Profile {
    tier: &'static str,
    version: &'static str,
    region: &'static str,
    mode: &'static str,
    identity: &'static str,
    upgrade_account: &'static str,
    consent: &'static str,
    service_role: bool,
    app_user: bool,
}

impl Profile {
    fn facts(&self) -> Vec<(&'static str, &'static str)> {
        vec![
            ("tier", self.tier),
            ("version", self.version),
            ("region", self.region),
            ("mode", self.mode),
            ("identity", self.identity),
            ("aad_premium", "true"),
            ("upgrade_account", self.upgrade_account),
            ("consent", self.consent),
            ("service_role", if self.service_role { "yes" } else { "no" }),
            ("app_user", if self.app_user { "yes" } else { "no" }),
        ]
    }

    fn upgrade(&self) -> bool {
        self.mode == "upgrade"
    }

    /// Who installs: the service account on a first install (001, row 5); on an upgrade the
    /// account chosen for it (002).
    fn installer(&self) -> &'static str {
        if self.upgrade() {
            self.upgrade_account
        } else {
            "service-account"
        }
    }

    /// Who gives the consent: the service account with temporary Global Admin on a first
    /// install (001, rows 2-3); on an upgrade the Global Administrator, or the account that
    /// runs it with temporary Global Admin (002, row 1).
    fn registrant(&self) -> &'static str {
        match (self.upgrade(), self.consent) {
            (false, _) => "service-account",
            (true, "global-admin") => "global-admin",
            (true, _) => self.upgrade_account,
        }
    }
}

fn every_profile() -> Vec<Profile> {
    let mut all = Vec::new();
    for tier in ["1-tier", "2-tier"] {
        for version in ["2.5", "3.4", "3.6"] {
            for region in ["us", "eu"] {
                for identity in ["service-account", "application-user"] {
                    for mode in ["install", "upgrade"] {
                        for upgrade_account in ["service-account", "system-admin"] {
                            for consent in ["global-admin", "temporary-global-admin"] {
                                for service_role in [true, false] {
                                    for app_user in [true, false] {
                                        all.push(Profile {
                                            tier,
                                            version,
                                            region,
                                            mode,
                                            identity,
                                            upgrade_account,
                                            consent,
                                            service_role,
                                            app_user,
                                        });
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    all
}

/// Checks one profile's checklist against the seed articles; returns what is wrong.
fn check(p: &Profile, list: &Value) -> Vec<String> {
    let steps = steps(list);
    let addresses: Vec<&str> = steps
        .iter()
        .map(|s| s["address"].as_str().unwrap())
        .collect();
    let at = |a: &str| addresses.iter().position(|x| *x == a);
    let role = |a: &str| {
        steps
            .iter()
            .find(|s| s["address"] == a)
            .and_then(|s| s["role"]["id"].as_str())
    };
    let mut wrong = Vec::new();
    let mut must = |ok: bool, what: &str| {
        if !ok {
            wrong.push(what.to_string());
        }
    };
    let before = |a: &str, b: &str| matches!((at(a), at(b)), (Some(x), Some(y)) if x < y);

    // Listed once, every fact known: nothing conditional is left, no role is undecided.
    let mut unique = addresses.clone();
    unique.sort();
    unique.dedup();
    must(unique.len() == addresses.len(), "a step is listed twice");
    for s in &steps {
        let address = s["address"].as_str().unwrap();
        must(
            s["condition"].is_null(),
            &format!("{address} keeps a condition"),
        );
        if let Some(role) = s["role"]["id"].as_str() {
            must(
                ["global-admin", "system-admin", "service-account"].contains(&role),
                &format!("{address}: performer `{role}` is not decided"),
            );
        }
        // Each step names the part of the article it encodes.
        must(
            !s["from"].as_array().unwrap().is_empty(),
            &format!("{address} cites no source"),
        );
        // The vendor's spelling and labels, ids included.
        let text = s.to_string().to_lowercase();
        for word in ["licence", "centre", "organisation"] {
            must(!text.contains(word), &format!("{address} says `{word}`"));
        }
    }

    // The 'Work 365 Service' role comes with the solution: assigned after the AppSource
    // install and before the consent (000 and 002, row 3; the consent section's introduction),
    // or held before an upgrade from a solution that has it.
    let assign = "install#assign-work-365-service-role";
    if p.upgrade() && p.service_role {
        must(
            at(assign).is_none(),
            "the role is assigned again on upgrade",
        );
        must(
            before(
                "upgrade-prerequisites#work-365-service-role",
                "install#install-from-appsource",
            ),
            "the upgrade does not require the 'Work 365 Service' role before it starts",
        );
    } else {
        must(
            before("install#check-solution-installed", assign),
            "the 'Work 365 Service' role is assigned before the solution exists",
        );
        must(
            before(assign, "install#open-consent-link"),
            "the consent runs before the 'Work 365 Service' role is assigned",
        );
        must(
            !addresses
                .iter()
                .any(|a| a.ends_with("#work-365-service-role")),
            "the 'Work 365 Service' role is a requirement before the solution exists",
        );
    }

    // Who performs the install, the registration and the consent.
    must(
        role("install#install-from-appsource") == Some(p.installer()),
        "wrong account installs",
    );
    must(
        role("install#get-consent") == Some(p.registrant()),
        "wrong account registers",
    );
    must(
        role("install#open-consent-link") == Some("service-account"),
        "the consent is not completed as the service account",
    );

    // A role is held before what needs it (003's order; 001, rows 2-3).
    if p.installer() == "service-account" {
        must(
            before(
                "service-account#promote-to-admin",
                "install#install-from-appsource",
            ),
            "the service account installs without the System Administrator role",
        );
        must(
            before(
                "service-account#confirm-promote",
                "service-account#set-access-mode",
            ),
            "Access Mode is set before the promotion",
        );
        must(
            before(
                "install#check-upgrade-complete",
                "post-install#remove-system-administrator",
            ),
            "the System Administrator role is not removed after the consent",
        );
        must(
            before(
                "install#check-upgrade-complete",
                "post-install#reset-service-credentials",
            ),
            "the troubleshooting needs Work 365 installed",
        );
    } else {
        must(
            at("service-account#promote-to-admin").is_none()
                && at("post-install#remove-system-administrator").is_none(),
            "the service account is made System Administrator although it does not install",
        );
    }
    if !p.upgrade() {
        must(
            before(
                "service-account#promote-to-admin",
                "service-account#sign-in-as-service-account",
            ),
            "the service account signs in before it is promoted",
        );
    } else {
        must(
            at("service-account#create-service-account-user").is_none(),
            "an upgrade creates the service account again",
        );
    }
    // The Field Security Profile after the install and consent (001, row 6, the later-dated
    // article, which covers upgrades too).
    must(
        before(
            "install#check-upgrade-complete",
            "post-install#fsp-work-365-admin",
        ),
        "the Field Security Profile is not assigned after the consent",
    );
    // Whoever works in Dynamics 365 has its role and license before the first such step
    // (003's introduction; 000, rows 1-2).
    if let Some(first) =
        at("service-account#check-enabled-users").or(at("service-account#promote-to-admin"))
    {
        for required in [
            "service-account#performer-system-admin",
            "service-account#global-admin-d365-license",
        ] {
            must(
                at(required).is_some_and(|r| r < first),
                &format!(
                    "{required} is not required before the Global Administrator works in Dynamics 365"
                ),
            );
        }
    }
    // The registration continues in the solution window: nothing comes between opening it
    // and the registration screen (000, Install Work 365 v2.5, step 6).
    let next = at("install#open-solution").and_then(|i| steps.get(i + 1));
    must(
        next.is_some_and(|s| {
            ["install#request-license", "install#get-consent"]
                .contains(&s["address"].as_str().unwrap())
        }),
        "something comes between opening the solution window and the registration",
    );
    // A Global Administrator who gives the consent logs in before opening it.
    if p.registrant() == "global-admin" && p.upgrade() {
        must(
            before("install#log-in-as-global-admin", "install#open-solution"),
            "the Global Administrator does not log in before opening the solution",
        );
    }
    // Whoever carries out the steps registers MFA first (000/001, Enable MFA Policies,
    // step 2): the System Administrator account that runs an upgrade too.
    if p.installer() == "system-admin" {
        must(
            before(
                "prerequisites#register-mfa-upgrade-account",
                "install#install-from-appsource",
            ),
            "the account that runs the upgrade does not register MFA first",
        );
    }
    // The Global Administrator's Dynamics 365 license is for working in Dynamics 365 (002,
    // row 2; 003's promotion of the service account), and is unassigned afterwards only where
    // it was assigned.
    // It is listed once, in the first runbook that asks for it.
    let logs_in =
        !p.upgrade() || p.consent == "global-admin" || p.upgrade_account == "service-account";
    let license = [
        "service-account#global-admin-d365-license",
        "prerequisites#global-admin-d365-license",
        "upgrade-prerequisites#global-admin-d365-license",
    ]
    .iter()
    .any(|a| at(a).is_some());
    must(
        license == logs_in
            && at("post-install#unassign-global-admin-d365-license").is_some() == logs_in,
        "the Global Administrator's license does not follow whether it logs into CRM",
    );
    // 000's first configuration is for a fresh install.
    for first in [
        "post-install#assign-security-roles",
        "post-install#configure-manufacturers",
        "post-install#configure-providers",
    ] {
        must(
            at(first).is_some() != p.upgrade(),
            &format!("{first} does not follow install or upgrade"),
        );
    }
    // A step listed once names the articles of every copy left out (002 on upgrades).
    if p.upgrade() {
        let cites_002 = |a: &str| {
            steps[at(a).unwrap()]["from"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["article"] == "002_d0adf66cacf060b8.txt")
        };
        must(
            cites_002("prerequisites#global-admin-credentials"),
            "the merged requirement does not cite the upgrade prerequisites",
        );
    }
    let temporary = match p.registrant() {
        "service-account" => Some("service-account#assign-temporary-global-admin"),
        "system-admin" => Some("upgrade-prerequisites#assign-temporary-global-admin"),
        _ => None,
    };
    if let Some(temporary) = temporary {
        must(
            before(temporary, "install#get-consent"),
            "the consent is given without Global Admin",
        );
    }
    // One path: the consent is given one way, and nothing asks to decide it.
    must(
        !(at("upgrade-prerequisites#consent-as-global-admin").is_some() && temporary.is_some()),
        "both ways of giving the consent are listed",
    );
    must(
        !steps
            .iter()
            .any(|s| s["title"].as_str().unwrap().starts_with("Decide")),
        "a step asks to decide what the profile says",
    );
    // The Global Admin given for the consent is taken back (001, row 2; 002, row 1).
    if let Some(temporary) = temporary {
        let unassign = if temporary.starts_with("service-account") {
            "post-install#unassign-global-admin"
        } else {
            "post-install#unassign-global-admin-upgrade-account"
        };
        must(
            before("install#check-upgrade-complete", unassign),
            "the temporary Global Admin is not unassigned after the consent",
        );
    }

    // Tier: the Partner Center steps are for 1-Tier (Direct Bill) partners only; its
    // connection is configured on a first install (000's next steps), an upgraded tenant has it.
    must(
        at("prerequisites#partner-center-integration-account").is_some() == (p.tier == "1-tier"),
        "the Partner Center integration account does not follow the tier",
    );
    must(
        at("post-install#configure-partner-center").is_some()
            == (p.tier == "1-tier" && !p.upgrade()),
        "Partner Center steps do not follow the tier",
    );
    // The license-key screen appears only when installing for the first time.
    must(
        at("install#request-license").is_some() != p.upgrade(),
        "the license screen does not follow the mode",
    );
    must(
        at("upgrade-prerequisites#upgrade-account").is_some() == p.upgrade(),
        "the upgrade prerequisites do not follow the mode",
    );
    // The AppSource install takes up to 15 minutes: a wait of 0-15.
    let wait = &steps[at("install#wait-for-install").unwrap()]["wait"]["time"];
    must(
        wait["min_minutes"] == 0 && wait["max_minutes"] == 15,
        "the AppSource wait is not 0-15 minutes",
    );
    // The application user: from 3.5, added unless it is already in use on an upgrade.
    let app_user = p.identity == "application-user" && !(p.upgrade() && p.app_user);
    must(
        at("application-user#add-app-user").is_some() == app_user,
        "the application user does not follow identity and mode",
    );
    if app_user {
        let id = if p.region == "us" {
            "e4b1a995-abe3-4350-a61c-65fccd32e8bd"
        } else {
            "5e56ae97-9be1-40d3-938b-99ea52175a30"
        };
        must(
            steps[at("application-user#add-app-user").unwrap()]["body"]
                .as_str()
                .unwrap()
                .contains(id),
            "the Application ID does not follow the region",
        );
        must(
            before(
                "post-install#review-quickstart",
                "application-user#add-app-user",
            ),
            "the application user is added before Work 365 is installed",
        );
    }
    wrong
}

#[test]
fn every_checklist_can_be_followed_from_top_to_bottom() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for p in every_profile() {
        // Facts that change nothing for a profile are not varied twice.
        if p.mode == "install"
            && (p.upgrade_account, p.consent, p.service_role, p.app_user)
                != ("service-account", "global-admin", true, true)
        {
            continue;
        }
        let needs_3_5 = p.identity == "application-user" && !(p.upgrade() && p.app_user);
        match checklist(&p.facts()) {
            Ok(list) => {
                checked += 1;
                if needs_3_5 && p.version != "3.6" {
                    failures.push(format!("{p:?}: an application user before 3.5"));
                }
                failures.extend(check(&p, &list).into_iter().map(|w| format!("{p:?}: {w}")));
            }
            Err(e) if needs_3_5 && p.version != "3.6" => {
                assert!(e.contains("3.5 and later"), "{e}");
            }
            Err(e) => failures.push(format!("{p:?}: {e}")),
        }
    }
    assert!(checked > 100, "only {checked} checklists");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_minimum_supported_version_is_2_5() {
    let e = checklist(&[("version", "2.4")]).unwrap_err();
    assert!(e.contains("the minimum is 2.5"), "{e}");
    for id in ["service-account", "prerequisites", "install"] {
        let out = runbook()
            .args(["checklist", "--runbook", id, "--set", "version=2.4"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{id}");
    }
}

#[test]
fn the_articles_naming_different_roles_is_visible() {
    let list = checklist(&[("mode", "install"), ("version", "3.6")]).unwrap();
    let all = steps(&list);
    let note = all
        .iter()
        .find(|s| s["address"] == "post-install#articles-name-different-roles")
        .expect("a note on the two roles");
    let body = note["body"].as_str().unwrap();
    assert!(body.contains("'Work 365 Sales'") && body.contains("'Work 365 Service'"));
    assert!(
        all.iter()
            .any(|s| s["address"] == "post-install#assign-work-365-sales-role")
    );
}

#[test]
fn unknown_upgrade_choices_keep_each_path_with_its_condition() {
    let list = checklist(&[("mode", "upgrade"), ("version", "3.6")]).unwrap();
    let all = steps(&list);
    let find = |a: &str| all.iter().find(|s| s["address"] == a).copied();
    let consent = find("upgrade-prerequisites#consent-as-global-admin").unwrap();
    assert_eq!(
        consent["condition"]["expression"],
        "consent == \"global-admin\""
    );
    // Who installs is not decided: the role says so rather than naming one account.
    let install = find("install#install-from-appsource").unwrap();
    assert_eq!(install["role"]["id"], "installer");
    let open = list["open_facts"].as_array().unwrap();
    for fact in ["upgrade_account", "consent", "service_role"] {
        assert!(open.iter().any(|f| f == fact), "{fact} is not asked");
    }
}

#[test]
fn the_application_user_minimum_is_cited_with_its_address() {
    let list = checklist(&[
        ("identity", "application-user"),
        ("mode", "install"),
        ("version", "3.6"),
    ])
    .unwrap();
    let rb = list["runbooks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "application-user")
        .unwrap();
    let sources = rb["revision"]["sources"].as_array().unwrap();
    assert!(sources.iter().any(|s| {
        s["url"]
            .as_str()
            .is_some_and(|u| u.ends_with("/150000158725"))
    }));
}
