//! Real parts for the marketplace tests: the `capsmith-market` binary as a process on loopback,
//! a throwaway PostgreSQL cluster (started once per test binary, a fresh database per test),
//! and packages built and signed the way `capsmith publish` does.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use base64::Engine;
use capsmith_core::market::PublishRequest;
use capsmith_core::package::{self, Contents, SigningKey};

pub const BIN: &str = env!("CARGO_BIN_EXE_capsmith-market");

/// Where a server keeps its data.
#[derive(Clone, Debug)]
pub enum Store {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Store {
    pub fn args(&self) -> Vec<String> {
        match self {
            Store::Sqlite(p) => vec!["--data".into(), p.display().to_string()],
            Store::Postgres(u) => vec!["--database".into(), u.clone()],
        }
    }
}

/// A fresh store of the given kind (`sqlite` or `postgres`).
pub fn store(kind: &str, dir: &Path) -> Store {
    match kind {
        "sqlite" => Store::Sqlite(dir.join("data")),
        _ => Store::Postgres(pg_database()),
    }
}

/// A running server process; killed when dropped.
pub struct Server {
    pub url: String,
    child: Child,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    pub fn start(store: &Store, env: &[(&str, &str)]) -> Server {
        Server::start_with(store, env, &[])
    }

    pub fn start_with(store: &Store, env: &[(&str, &str)], args: &[&str]) -> Server {
        let mut cmd = Command::new(BIN);
        cmd.arg("serve")
            .args(store.args())
            .args(["--listen", "127.0.0.1:0"])
            .args(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start capsmith-market");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .trim()
            .strip_prefix("capsmith-market listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
            .to_string();
        Server { url, child }
    }

    pub fn stop(self) {}

    /// The server process's id (for reading its memory in `/proc`; the load test).
    #[allow(dead_code)]
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

/// A marketplace for the core's client to talk to: a server process on a fresh store, and
/// Capsmith homes signed in to it.
pub struct Market {
    pub dir: tempfile::TempDir,
    pub store: Store,
    pub server: Option<Server>,
}

impl Market {
    /// On a fresh store of `kind` (`sqlite` or `postgres`), the server started with `args`.
    pub fn new(kind: &str, args: &[&str]) -> Market {
        let dir = tempfile::tempdir().unwrap();
        let store = store(kind, dir.path());
        let server = Some(Server::start_with(&store, &[], args));
        Market { dir, store, server }
    }

    pub fn url(&self) -> String {
        self.server.as_ref().expect("the server runs").url.clone()
    }

    /// A Capsmith home in the temporary folder, signed in as a new user.
    pub async fn home(&self, name: &str, user: &str) -> capsmith_core::api::Capsmith {
        let app = capsmith_core::api::Capsmith::open(self.dir.path().join(name))
            .await
            .unwrap();
        let token = add_user(&self.store, user, &[]);
        app.market_login(&self.url(), &token).await.unwrap();
        app
    }

    /// Changes the server's database behind its back (a compromised or buggy marketplace).
    pub async fn server_sql(&self, sql: &str) {
        let sql = sqlx::AssertSqlSafe(sql.to_string());
        match &self.store {
            Store::Sqlite(dir) => {
                let url = format!("sqlite://{}", dir.join("market.sqlite3").display());
                let pool = sqlx::sqlite::SqlitePool::connect(&url).await.unwrap();
                sqlx::query(sql).execute(&pool).await.unwrap();
                pool.close().await;
            }
            Store::Postgres(url) => {
                let pool = sqlx::postgres::PgPool::connect(url).await.unwrap();
                sqlx::query(sql).execute(&pool).await.unwrap();
                pool.close().await;
            }
        }
    }
}

/// `capsmith-market user add …`: the token it prints.
pub fn add_user(store: &Store, name: &str, extra: &[&str]) -> String {
    let out = Command::new(BIN)
        .args(["user", "add", name])
        .args(extra)
        .args(store.args())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "user add: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// A manifest asking for `permissions` (GET at least, which its call needs), reaching `host`.
pub fn manifest(id: &str, version: &str, permissions: &[&str], host: &str) -> String {
    let mut permissions = permissions.to_vec();
    if !permissions.contains(&"network.http.get") {
        permissions.insert(0, "network.http.get");
    }
    format!(
        r#"capability:
  id: {id}
  name: "{id} tool"
  version: {version}
  description: Looks things up for {id}
  category: Data
  tags: [lookup, {id}]
  permissions: [{perms}]
  actions:
    - id: get
      inputs: {{ q: {{ type: string, required: true }} }}
      outputs: {{ answer: {{ type: string }} }}
  integration:
    type: api
    method: GET
    endpoint: https://{host}/lookup?q=${{input.q}}
    response_mapping: {{ answer: data.answer }}
"#,
        perms = permissions.join(", ")
    )
}

/// A signed publish request for `manifest` (tests passed unless `failed`).
pub fn publish_request(key: &SigningKey, manifest: &str, failed: i64) -> (PublishRequest, Vec<u8>) {
    let checked = capsmith_core::validate::check_text(
        "m.yaml",
        manifest,
        capsmith_core::manifest::SourceFormat::Yaml,
        None,
    );
    let m = checked
        .manifest
        .unwrap_or_else(|| panic!("{:?}", checked.diagnostics));
    let bytes = package::build(&Contents {
        manifest_name: "manifest.yaml".into(),
        manifest: manifest.into(),
        readme: Some(format!("# {}\n", m.capability().name)),
        icon: None,
        flow: None,
        tests: Some(format!(r#"{{"passed": 1, "failed": {failed}}}"#)),
    })
    .unwrap();
    let sha = package::sha256_hex(&bytes);
    let req = PublishRequest {
        package: base64::engine::general_purpose::STANDARD.encode(&bytes),
        signature: key.sign(&m.capability().id, &m.version(), &sha),
        version: Some(m.version()),
        visibility: Some("public".into()),
        org: None,
        price_cents: None,
    };
    (req, bytes)
}

/// A small HTTP client for the API.
pub struct Api {
    pub url: String,
    pub token: Option<String>,
    http: reqwest::Client,
}

pub struct Reply {
    pub status: u16,
    pub etag: Option<String>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&self.body)))
    }
    pub fn code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or("")
            .to_string()
    }
}

impl Api {
    pub fn new(url: &str, token: Option<&str>) -> Api {
        Api {
            url: url.into(),
            token: token.map(str::to_string),
            http: reqwest::Client::new(),
        }
    }

    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut r = self.http.request(method, format!("{}{path}", self.url));
        if let Some(t) = &self.token {
            r = r.bearer_auth(t);
        }
        for (k, v) in headers {
            r = r.header(*k, *v);
        }
        if let Some(b) = body {
            r = r.json(&b);
        }
        let res = r.send().await.unwrap();
        Reply {
            status: res.status().as_u16(),
            etag: res
                .headers()
                .get("etag")
                .map(|v| v.to_str().unwrap().to_string()),
            body: res.bytes().await.unwrap().to_vec(),
        }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.call(reqwest::Method::GET, path, None, &[]).await
    }
    pub async fn post(&self, path: &str, body: serde_json::Value) -> Reply {
        self.call(reqwest::Method::POST, path, Some(body), &[])
            .await
    }
    pub async fn put(&self, path: &str, body: serde_json::Value) -> Reply {
        self.call(reqwest::Method::PUT, path, Some(body), &[]).await
    }

    /// Registers `key` and publishes `manifest`.
    pub async fn publish(
        &self,
        key: &SigningKey,
        manifest: &str,
        extra: serde_json::Value,
    ) -> Reply {
        self.put(
            "/v1/me/key",
            serde_json::json!({"public_key": key.public_b64()}),
        )
        .await;
        let (req, _) = publish_request(key, manifest, 0);
        let mut body = serde_json::to_value(&req).unwrap();
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                b.insert(k.clone(), v.clone());
            }
        }
        let id = manifest
            .lines()
            .find_map(|l| l.trim().strip_prefix("id: "))
            .unwrap()
            .to_string();
        self.post(&format!("/v1/capabilities/{id}/versions"), body)
            .await
    }
}

// ---- PostgreSQL: a private cluster for this test binary ----

struct Cluster {
    url: String,
    _dir: tempfile::TempDir,
    data: PathBuf,
    bin: PathBuf,
    as_postgres: bool,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = pg(self, "pg_ctl")
            .args(["-D", self.data.to_str().unwrap(), "-m", "immediate", "stop"])
            .output();
    }
}

fn pg(c: &Cluster, tool: &str) -> Command {
    let exe = c.bin.join(tool);
    if c.as_postgres {
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", "postgres", "--"]).arg(exe);
        cmd
    } else {
        Command::new(exe)
    }
}

fn pg_bin() -> PathBuf {
    if let Ok(p) = std::env::var("CAPSMITH_PG_BIN") {
        return PathBuf::from(p);
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.path().join("bin"))
                .collect()
        })
        .unwrap_or_default();
    found.retain(|p| p.join("initdb").exists());
    found.sort();
    found.pop().unwrap_or_else(|| {
        panic!("PostgreSQL is not installed: the PostgreSQL tests need its server binaries (Debian: apt install postgresql; scripts/deps installs it)")
    })
}

static CLUSTER: OnceLock<Cluster> = OnceLock::new();
static DATABASES: AtomicUsize = AtomicUsize::new(0);

fn cluster() -> &'static Cluster {
    CLUSTER.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("pg");
        let as_postgres = unsafe { libc_geteuid() } == 0;
        if as_postgres {
            // PostgreSQL refuses to run as root: the cluster belongs to the postgres user.
            Command::new("chown")
                .args(["-R", "postgres", dir.path().to_str().unwrap()])
                .status()
                .unwrap();
            Command::new("chmod")
                .args(["755", dir.path().to_str().unwrap()])
                .status()
                .unwrap();
        }
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let c = Cluster {
            url: format!("postgres://capsmith@127.0.0.1:{port}"),
            data: data.clone(),
            _dir: dir,
            bin: pg_bin(),
            as_postgres,
        };
        if as_postgres {
            Command::new("runuser")
                .args([
                    "-u",
                    "postgres",
                    "--",
                    "mkdir",
                    "-p",
                    data.to_str().unwrap(),
                ])
                .status()
                .unwrap();
        }
        let out = pg(&c, "initdb")
            .args([
                "-D",
                data.to_str().unwrap(),
                "-U",
                "capsmith",
                "--auth=trust",
                "-E",
                "UTF8",
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let opts = format!(
            "-c listen_addresses=127.0.0.1 -p {port} -k {} -c fsync=off -c max_connections=200",
            data.display()
        );
        let out = pg(&c, "pg_ctl")
            .args(["-D", data.to_str().unwrap(), "-o", &opts, "-l"])
            .arg(data.join("log"))
            .args(["-w", "start"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "pg_ctl start: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        unsafe { atexit(stop_cluster) };
        c
    })
}

extern "C" {
    #[link_name = "geteuid"]
    fn libc_geteuid() -> u32;
    fn atexit(f: extern "C" fn()) -> i32;
}

/// Statics are never dropped: stop the cluster when the test binary exits.
extern "C" fn stop_cluster() {
    if let Some(c) = CLUSTER.get() {
        let _ = pg(c, "pg_ctl")
            .args(["-D", c.data.to_str().unwrap(), "-m", "immediate", "stop"])
            .output();
    }
}

/// A new, empty database on the test cluster.
pub fn pg_database() -> String {
    let c = cluster();
    let name = format!(
        "t{}_{}",
        std::process::id(),
        DATABASES.fetch_add(1, Ordering::SeqCst)
    );
    let out = pg(c, "psql")
        .args([
            &format!("{}/postgres", c.url),
            "-qc",
            &format!("CREATE DATABASE {name}"),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "createdb: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    format!("{}/{name}", c.url)
}
