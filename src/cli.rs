//! The command line: `serve` (default), `migrate`, `schema`, `demo`.
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use campus_photo_domain::codes::{ProjectMode, Role};
use clap::{Parser, Subcommand};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::{
    AppState, Overrides,
    config::Config,
    entities::account,
    error::AppError,
    services::{accounts, catalogue},
};

#[derive(Parser, Debug)]
#[command(
    name = "campus-photo",
    version,
    about = "University ID-photo collection service (高校图像信息采集)"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the GraphQL API (the default). Every setting is an environment variable (also read
    /// from `.env`), or the flag of the same name.
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the GraphQL schema (SDL).
    Schema,
    /// Create a demo school, project and staff accounts, and print how to sign in.
    Demo,
    /// Print (or write) the manifest of trusted documents made of the playground's example
    /// operations: `{ "<sha256>": "<document>" }`, for `GRAPHQL_TRUSTED_DOCUMENTS`.
    TrustedDocuments {
        /// Write it here instead of printing it.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
    },
    /// Development collection codes (图像采集码).
    CollectionCode {
        #[command(subcommand)]
        command: Box<CollectionCodeCommand>,
    },
}

/// The settings of `serve`: one flag per environment variable (`--campus-photo-bind` for
/// `CAMPUS_PHOTO_BIND`), listed with its default by `serve --help`. Holds what was given (flag or
/// environment), not the defaults, which the configuration applies.
#[derive(Debug, Clone, Default)]
pub struct ServeArgs {
    pub given: std::collections::HashMap<String, String>,
}

fn flag_of(name: &str) -> &'static str {
    Box::leak(name.to_ascii_lowercase().replace('_', "-").into_boxed_str())
}

impl clap::FromArgMatches for ServeArgs {
    fn from_arg_matches(matches: &clap::ArgMatches) -> Result<Self, clap::Error> {
        let mut args = Self::default();
        args.update_from_arg_matches(matches)?;
        Ok(args)
    }

    fn update_from_arg_matches(&mut self, matches: &clap::ArgMatches) -> Result<(), clap::Error> {
        for variable in crate::config::variables::VARIABLES {
            if matches.value_source(variable.name) == Some(clap::parser::ValueSource::DefaultValue)
            {
                continue;
            }
            if let Some(value) = matches.get_one::<String>(variable.name) {
                self.given.insert(variable.name.to_string(), value.clone());
            }
        }
        Ok(())
    }
}

impl clap::Args for ServeArgs {
    fn augment_args(command: clap::Command) -> clap::Command {
        command.args(crate::config::variables::VARIABLES.iter().map(|variable| {
            let mut arg = clap::Arg::new(variable.name)
                .long(flag_of(variable.name))
                .env(variable.name)
                .value_name("VALUE")
                .help(variable.help)
                .hide_env_values(variable.secret);
            if let Some(default) = variable.default {
                arg = arg.default_value(default);
            }
            arg
        }))
    }

    fn augment_args_for_update(command: clap::Command) -> clap::Command {
        Self::augment_args(command)
    }
}

impl ServeArgs {
    /// The configuration: the environment, with the flags given on top.
    pub fn config(&self) -> Result<Config, crate::config::ConfigError> {
        let _ = dotenvy::dotenv();
        let mut vars: std::collections::HashMap<String, String> = std::env::vars().collect();
        vars.extend(self.given.clone());
        Config::from_vars(&vars, true)
    }
}

#[derive(Subcommand, Debug)]
pub enum CollectionCodeCommand {
    /// Mint a code signed with the development key (or `--signing-seed`) and write it as a QR PNG.
    Issue(IssueArgs),
}

#[derive(clap::Args, Debug)]
pub struct IssueArgs {
    /// The student's full name; the code carries it masked (张*三).
    #[arg(long)]
    pub name: String,
    /// The full 18-character ID number; the code carries it masked, keeping the last 4.
    #[arg(long)]
    pub id_number: String,
    /// 院校代码 (5 digits).
    #[arg(long)]
    pub school_code: String,
    #[arg(long, default_value = "北京师范大学")]
    pub school_name: String,
    #[arg(long)]
    pub college: Option<String>,
    #[arg(long)]
    pub major: Option<String>,
    /// 本科 / 专科 / 硕士 / 博士
    #[arg(long, default_value = "本科")]
    pub level: String,
    #[arg(long)]
    pub student_number: Option<String>,
    #[arg(long)]
    pub graduation_year: Option<i32>,
    /// Registry student id; random when omitted.
    #[arg(long)]
    pub sid: Option<String>,
    /// Last valid day (YYYY-MM-DD, Asia/Shanghai); one year from now when omitted.
    #[arg(long)]
    pub expires: Option<chrono::NaiveDate>,
    /// Where to write the QR PNG.
    #[arg(long)]
    pub out: Option<std::path::PathBuf>,
    /// Base64 Ed25519 seed to sign with instead of the development key (issuer/kid must match).
    #[arg(long, env = "COLLECTION_CODE_SIGNING_SEED", hide_env_values = true)]
    pub signing_seed: Option<String>,
    #[arg(long, default_value = campus_photo_codes::token::DEV_ISSUER)]
    pub issuer: String,
    #[arg(long, default_value = campus_photo_codes::token::DEV_KID)]
    pub kid: String,
}

impl IssueArgs {
    /// A development code for one student with the defaults of the command line.
    pub fn for_student(name: &str, id_number: &str, school_code: &str) -> Self {
        Self {
            name: name.into(),
            id_number: id_number.into(),
            school_code: school_code.into(),
            school_name: "北京师范大学".into(),
            college: None,
            major: None,
            level: "本科".into(),
            student_number: None,
            graduation_year: None,
            sid: None,
            expires: None,
            out: None,
            signing_seed: None,
            issuer: campus_photo_codes::token::DEV_ISSUER.into(),
            kid: campus_photo_codes::token::DEV_KID.into(),
        }
    }
}

/// Mints the token text for `args` at `now`.
pub fn mint_collection_code(
    args: &IssueArgs,
    now: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<String> {
    use base64::engine::general_purpose::STANDARD;
    use campus_photo_domain::{codes as domain_codes, id_number::IdNumber, names};
    let shanghai =
        chrono::FixedOffset::east_opt(8 * 3600).ok_or_else(|| anyhow::anyhow!("offset"))?;
    let name = names::normalise_name(&args.name).map_err(|e| anyhow::anyhow!("--name: {e}"))?;
    let id = IdNumber::parse(&args.id_number, now.with_timezone(&shanghai).date_naive())
        .map_err(|e| anyhow::anyhow!("--id-number: {e}"))?;
    domain_codes::validate_school_code(&args.school_code)
        .map_err(|e| anyhow::anyhow!("--school-code: {e}"))?;
    let exp = match args.expires {
        Some(day) => day
            .and_hms_opt(23, 59, 59)
            .and_then(|t| t.and_local_timezone(shanghai).single())
            .ok_or_else(|| anyhow::anyhow!("--expires: not a valid day"))?
            .timestamp(),
        None => now.timestamp() + 365 * 86_400,
    };
    if exp <= now.timestamp() {
        anyhow::bail!("--expires: must be in the future");
    }
    let signing_key = match &args.signing_seed {
        None => campus_photo_codes::token::dev_signing_key(),
        Some(b64) => {
            let seed: [u8; 32] = STANDARD
                .decode(b64.trim())
                .ok()
                .and_then(|v| v.try_into().ok())
                .ok_or_else(|| anyhow::anyhow!("--signing-seed: expected base64 of 32 bytes"))?;
            ed25519_dalek::SigningKey::from_bytes(&seed)
        }
    };
    let claims = campus_photo_codes::token::Claims {
        v: 1,
        iss: args.issuer.clone(),
        kid: args.kid.clone(),
        sid: args
            .sid
            .clone()
            .unwrap_or_else(|| format!("S{}", &uuid::Uuid::new_v4().simple().to_string()[..16])),
        nm: names::mask_name(&name),
        idm: id.masked(),
        sch: args.school_code.clone(),
        schn: args.school_name.clone(),
        col: args.college.clone(),
        maj: args.major.clone(),
        lvl: Some(args.level.clone()),
        xh: args.student_number.clone(),
        gy: args.graduation_year,
        iat: now.timestamp(),
        exp,
    };
    Ok(campus_photo_codes::token::mint(&claims, &signing_key))
}

fn issue_code(args: &IssueArgs) -> anyhow::Result<()> {
    let text = mint_collection_code(args, chrono::Utc::now())?;
    if let Some(out) = &args.out {
        let png = campus_photo_codes::render_qr_png(&text, 6)?;
        std::fs::write(out, png).map_err(|e| anyhow::anyhow!("{}: {e}", out.display()))?;
        eprintln!("QR written to {}", out.display());
    }
    println!("{text}");
    Ok(())
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli
        .command
        .unwrap_or_else(|| Command::Serve(ServeArgs::default()))
    {
        Command::Serve(args) => {
            let state = crate::start(args.config()?, Overrides::default()).await?;
            crate::serve(state).await
        }
        Command::Migrate => {
            let config = Config::from_env()?;
            let db = crate::db::connect(&config.database_url, None).await?;
            crate::db::migrate(&db).await?;
            crate::services::deployment::check_secret_key(
                &db,
                &config.secret_key,
                chrono::Utc::now(),
            )
            .await?;
            println!("migrations applied");
            Ok(())
        }
        Command::Schema => {
            print!("{}", crate::graphql::sdl());
            Ok(())
        }
        Command::Demo => {
            let state = crate::start(Config::from_env()?, Overrides::default()).await?;
            demo(&state).await
        }
        Command::TrustedDocuments { out } => {
            let manifest = trusted_documents_manifest();
            match out {
                Some(path) => {
                    std::fs::write(&path, manifest)
                        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
                    eprintln!("manifest written to {}", path.display());
                }
                None => println!("{manifest}"),
            }
            Ok(())
        }
        Command::CollectionCode { command } => match *command {
            CollectionCodeCommand::Issue(args) => issue_code(&args),
        },
    }
}

/// The playground's example operations as a manifest of trusted documents (hash → document).
pub fn trusted_documents_manifest() -> String {
    let documents: std::collections::BTreeMap<String, &str> = crate::http::playground::EXAMPLES
        .iter()
        .map(|(_, text)| (crate::services::persisted_queries::sha256_hex(text), *text))
        .collect();
    serde_json::to_string_pretty(&documents).unwrap_or_default()
}

/// Where the service will be reached with this configuration: `CAMPUS_PHOTO_PUBLIC_URL`, else
/// the listen address (loopback when it listens on every address, which no browser can open).
pub fn served_at(config: &Config) -> String {
    if let Some(url) = &config.public_url {
        return url.clone();
    }
    let mut addr = config.bind;
    if addr.ip().is_unspecified() {
        addr.set_ip(match addr.ip() {
            std::net::IpAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            std::net::IpAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    format!("http://{addr}")
}

/// The demo school matches the fixture collection codes (院校代码 10027).
pub const DEMO_SCHOOL_CODE: &str = "10027";
pub const DEMO_FEATURE_CODE: &str = "DEMO1";

fn random_password() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 12]>())
}

/// Creates the staff account, or gives it a fresh password when it exists.
async fn demo_staff(
    state: &AppState,
    username: &str,
    role: Role,
    school: Option<&str>,
) -> anyhow::Result<String> {
    let password = random_password();
    let existing = account::Entity::find()
        .filter(account::Column::Username.eq(username))
        .one(&state.db)
        .await?;
    match existing {
        Some(found) => {
            // The old password is gone: so are the sessions opened with it.
            let ended = accounts::reset_staff_password(state, found, password.clone()).await?;
            if ended > 0 {
                println!("{username}: new password; {ended} open session(s) ended");
            }
        }
        None => {
            accounts::create_staff(
                state,
                accounts::NewStaff {
                    username,
                    password: &password,
                    role,
                    school_code: school,
                },
            )
            .await?;
        }
    }
    Ok(password)
}

async fn demo(state: &AppState) -> anyhow::Result<()> {
    match catalogue::create_school(state, DEMO_SCHOOL_CODE, "北京师范大学").await {
        Ok(_) | Err(AppError::User(_)) => {}
        Err(e) => return Err(e.into()),
    }
    let project = catalogue::create_project(
        state,
        catalogue::NewProject {
            school_code: DEMO_SCHOOL_CODE.into(),
            name: "2027届毕业生学历图像采集（演示）".into(),
            feature_code: DEMO_FEATURE_CODE.into(),
            mode: ProjectMode::Individual,
            price_fen: 3000,
            order_number_prefix: "000015".into(),
            allow_album_upload: Some(true),
            max_auto_checks: None,
            background: None,
            opens_at: None,
            closes_at: None,
            print_layouts: vec![
                catalogue::PrintLayout {
                    code: "1IN-8".into(),
                    name: "一寸 8 张".into(),
                    price_fen: 1000,
                },
                catalogue::PrintLayout {
                    code: "2IN-4".into(),
                    name: "二寸 4 张".into(),
                    price_fen: 1000,
                },
            ],
            prints_to_school: Some(false),
            pay_first: None,
        },
    )
    .await;
    match project {
        Ok(_) | Err(AppError::User(_)) => {}
        Err(e) => return Err(e.into()),
    }
    let admin = demo_staff(state, "demo-admin", Role::Admin, None).await?;
    let reviewer = demo_staff(
        state,
        "demo-reviewer",
        Role::Reviewer,
        Some(DEMO_SCHOOL_CODE),
    )
    .await?;
    let producer = demo_staff(
        state,
        "demo-producer",
        Role::Producer,
        Some(DEMO_SCHOOL_CODE),
    )
    .await?;
    let school_admin = demo_staff(
        state,
        "demo-school-admin",
        Role::SchoolAdmin,
        Some(DEMO_SCHOOL_CODE),
    )
    .await?;
    let code_args = IssueArgs {
        college: Some("文学院".into()),
        major: Some("汉语言文学".into()),
        student_number: Some("201911010101".into()),
        graduation_year: Some(2027),
        out: Some("data/demo-collection-code.png".into()),
        ..IssueArgs::for_student("张小三", "11010519491231002X", DEMO_SCHOOL_CODE)
    };
    let code = mint_collection_code(&code_args, state.clock.now())?;
    if let Some(out) = &code_args.out {
        std::fs::write(out, campus_photo_codes::render_qr_png(&code, 6)?)?;
    }
    let version = &state.config.service_info.agreement_version;
    println!(
        "Demo data ready: school {DEMO_SCHOOL_CODE} 北京师范大学, project feature code {DEMO_FEATURE_CODE} (¥30.00).

Staff (passwords are new on every run of `demo`):
  demo-admin         {admin}
  demo-reviewer      {reviewer}
  demo-producer      {producer}
  demo-school-admin  {school_admin}

A collection code for a demo student (ID number ends 002X), also as a QR picture in data/demo-collection-code.png:
  {code}
Add it after signing in as a student:
  mutation {{ addEnrollment(input: {{collectionCode: \"{code}\", idNumberLast4: \"002X\", featureCode: \"{DEMO_FEATURE_CODE}\"}}) {{ enrollment {{ id name }} userErrors {{ code message }} }} }}

Sign in as a student in the sandbox (any code; the phone code is the phone number itself):
  mutation {{ signInWithWeChat(input: {{code: \"demo-student\", phoneCode: \"13800138000\", agreementVersion: \"{version}\"}}) {{ token userErrors {{ code message }} }} }}
Staff:
  mutation {{ signInStaff(input: {{username: \"demo-admin\", password: \"{admin}\"}}) {{ token userErrors {{ code message }} }} }}
Then send the token as the header  Authorization: Bearer <token>  (the playground has a headers tab).
Serve with `campus-photo serve` (from the source tree: `cargo run --release`) and open {url}/playground",
        url = served_at(&state.config)
    );
    Ok(())
}
