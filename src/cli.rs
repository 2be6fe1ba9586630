//! The command line: `serve` (default), `migrate`, `schema`, `demo`.
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use campus_photo_domain::codes::{ProjectMode, Role};
use clap::{Parser, Subcommand};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

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
    /// Serve the GraphQL API (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the GraphQL schema (SDL).
    Schema,
    /// Create a demo school, project and staff accounts, and print how to sign in.
    Demo,
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let state = crate::start(Config::from_env()?, Overrides::default()).await?;
            crate::serve(state).await
        }
        Command::Migrate => {
            let config = Config::from_env()?;
            let db = crate::db::connect(&config.database_url, None).await?;
            crate::db::migrate(&db).await?;
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
    }
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
            let mut active: account::ActiveModel = found.into();
            active.password_hash = Set(Some(accounts::hash_password(password.clone()).await?));
            active.update(&state.db).await?;
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
    let version = &state.config.service_info.agreement_version;
    println!(
        "Demo data ready: school {DEMO_SCHOOL_CODE} 北京师范大学, project feature code {DEMO_FEATURE_CODE} (¥30.00).

Staff (passwords are new on every run of `demo`):
  demo-admin         {admin}
  demo-reviewer      {reviewer}
  demo-producer      {producer}
  demo-school-admin  {school_admin}

Sign in as a student in the sandbox (any code; the phone code is the phone number itself):
  mutation {{ signInWithWeChat(input: {{code: \"demo-student\", phoneCode: \"13800138000\", agreementVersion: \"{version}\"}}) {{ token userErrors {{ code message }} }} }}
Staff:
  mutation {{ signInStaff(input: {{username: \"demo-admin\", password: \"{admin}\"}}) {{ token userErrors {{ code message }} }} }}
Then send the token as the header  Authorization: Bearer <token>  (the playground has a headers tab).
Serve with `cargo run --release` and open http://{bind}/playground",
        bind = state.config.bind
    );
    Ok(())
}
