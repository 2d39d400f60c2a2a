//! Administration from the command line: bootstrap accounts, read the audit trail.

use std::io::Read;

use anyhow::Context;
use clap::{Args, Subcommand};
use docde_domain::account::{Email, Role, check_password};
use docde_server::Config;
use docde_server::auth::Passwords;
use docde_server::auth::secrets::random_token;
use docde_store::accounts::audit::{self, AuditFilter};
use docde_store::accounts::users::{self, NewUser};
use uuid::Uuid;

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create an active account, e.g. the first installation admin. Without
    /// --password-stdin a strong password is generated and printed once.
    CreateUser(CreateUser),
}

#[derive(Debug, Args)]
pub struct CreateUser {
    #[arg(long)]
    email: String,
    /// patient, doctor, nurse, reception, hospital_admin or admin
    #[arg(long)]
    role: String,
    #[arg(long, default_value = "Administrator")]
    name: String,
    /// The hospital, for staff roles.
    #[arg(long)]
    hospital_id: Option<Uuid>,
    /// Read the password from standard input instead of generating one.
    #[arg(long)]
    password_stdin: bool,
}

pub async fn run(config: Config, command: AdminCommand) -> anyhow::Result<()> {
    match command {
        AdminCommand::CreateUser(args) => create_user(config, args).await,
    }
}

async fn create_user(config: Config, args: CreateUser) -> anyhow::Result<()> {
    let email = Email::parse(&args.email).map_err(|e| anyhow::anyhow!("--email {e}"))?;
    let role: Role = args
        .role
        .parse()
        .map_err(|e| anyhow::anyhow!("--role: {e}"))?;
    if role.is_staff() != args.hospital_id.is_some() {
        anyhow::bail!("--hospital-id is required for staff roles and not allowed otherwise");
    }
    let (password, generated) = if args.password_stdin {
        let mut input = String::new();
        std::io::stdin()
            .read_to_string(&mut input)
            .context("reading the password from stdin")?;
        (input.trim_end_matches(['\r', '\n']).to_owned(), false)
    } else {
        (random_token(18), true)
    };
    check_password(&password, Some(email.local_part()))
        .map_err(|e| anyhow::anyhow!("password {e}"))?;
    let store = docde_server::startup::open_store(&config).await?;
    let hash = Passwords::new()?.hash(&password).await?;
    let id = Uuid::now_v7();
    let user = NewUser {
        email: email.as_str().to_owned(),
        email_key: email.key(),
        password_hash: Some(hash),
        role,
        hospital_id: args.hospital_id,
        employee_number: None,
        name: args.name,
        phone: None,
        birth_date: None,
        gender: None,
        address: None,
        active: true,
    };
    users::create(&store, id, &user, None, None, chrono::Utc::now())
        .await
        .map_err(|e| anyhow::anyhow!("creating the account: {e}"))?;
    store.close().await;
    println!("created {role} {id} <{}>", email.as_str());
    if generated {
        println!("password (shown once): {password}");
    }
    Ok(())
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    #[arg(long)]
    patient: Option<Uuid>,
    #[arg(long)]
    hospital: Option<Uuid>,
    #[arg(long)]
    actor: Option<Uuid>,
    #[arg(long, default_value_t = 50)]
    limit: u32,
}

/// Prints the newest audit entries, one per line.
pub async fn audit(config: Config, args: AuditArgs) -> anyhow::Result<()> {
    let store = docde_server::startup::open_store(&config).await?;
    let filter = AuditFilter {
        hospital_id: args.hospital,
        patient_id: args.patient,
        actor_id: args.actor,
        before: None,
        limit: args.limit.clamp(1, 10_000),
    };
    let show = |v: Option<Uuid>| v.map(|u| u.to_string()).unwrap_or_else(|| "-".into());
    for e in audit::list(&store, &filter).await? {
        println!(
            "{}  {:<14} {} {}:{}  patient={} actor={}({}) ip={} request={}",
            e.at.to_rfc3339(),
            e.action,
            e.actor_kind,
            e.resource_type,
            show(e.resource_id),
            show(e.patient_id),
            show(e.actor_id),
            e.actor_role.as_deref().unwrap_or("-"),
            e.client_ip.as_deref().unwrap_or("-"),
            e.request_id.as_deref().unwrap_or("-"),
        );
    }
    store.close().await;
    Ok(())
}
