//! Evidence on an S3-compatible object store, shared by two instances.
//!
//! Runs a real S3-compatible server (moto, from PyPI) on a free loopback
//! port, creates a bucket, and builds two applications the way `redress
//! serve` does (`open_store` + `build_app`) on one database, each with its
//! own data directory and `evidence_url = s3://bucket/prefix`. A file stored
//! through one is read through the other, under the key derived from its
//! SHA-256, and nothing lands in either data directory.
//!
//! Needs moto: `python3 -m pip install 'moto[server]'`. Without it the test
//! is reported ignored (never passed) under a "NOT RUN" banner, or fails
//! when `REDRESS_TEST_S3_REQUIRED=1` (CI installs moto and sets it).

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as Key;
use object_store::{ObjectStore, ObjectStoreExt};

const INSTALL: &str = "install it with: python3 -m pip install 'moto[server]'";
const BUCKET: &str = "redress-evidence";

/// A moto S3 server on a free port; killed when dropped.
struct Moto {
    child: Child,
    endpoint: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_moto(log: &std::path::Path) -> Moto {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let port_s = port.to_string();
    let attempts: [(&str, Vec<&str>); 2] = [
        ("moto_server", vec!["-H", "127.0.0.1", "-p", &port_s]),
        (
            "python3",
            vec!["-m", "moto.server", "-H", "127.0.0.1", "-p", &port_s],
        ),
    ];
    let mut errors = Vec::new();
    for (program, args) in attempts {
        let out = std::fs::File::create(log).expect("moto log");
        let child = match Command::new(program)
            .args(&args)
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
        {
            Ok(c) => c,
            Err(e) => {
                errors.push(format!("{program}: {e}"));
                continue;
            }
        };
        let mut moto = Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return moto;
            }
            if let Ok(Some(status)) = moto.child.try_wait() {
                let text = std::fs::read_to_string(log).unwrap_or_default();
                errors.push(format!("{program} exited with {status}: {text}"));
                break;
            }
            if Instant::now() > deadline {
                errors.push(format!("{program} did not listen on {port} in 60 s"));
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    panic!(
        "cannot start the S3-compatible test server moto ({}); {INSTALL}",
        errors.join("; ")
    );
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// An unsigned request to moto (it does not check signatures).
fn raw(agent: &ureq::Agent, method: &str, url: &str) -> (u16, Vec<u8>) {
    let req = ureq::http::Request::builder()
        .method(method)
        .uri(url)
        .body(Vec::<u8>::new())
        .unwrap();
    let mut resp = agent
        .run(req)
        .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let mut bytes = Vec::new();
    resp.body_mut().as_reader().read_to_end(&mut bytes).unwrap();
    (resp.status().as_u16(), bytes)
}

fn config(data_dir: PathBuf, database: &std::path::Path, endpoint: &str) -> redress::Config {
    redress::Config {
        data_dir,
        database_url: Some(format!("sqlite://{}", database.display())),
        data_key: Some("7e".repeat(32)),
        evidence_url: Some(format!("s3://{BUCKET}/cases")),
        s3_endpoint: Some(endpoint.to_string()),
        s3_region: Some("us-east-1".into()),
        s3_access_key_id: Some("testing".into()),
        s3_secret_access_key: Some("testing".into()),
        s3_allow_http: true,
        ..redress::Config::default()
    }
}

/// The bucket itself, without the prefix, as an operator would see it.
fn bucket(endpoint: &str) -> AmazonS3 {
    AmazonS3Builder::new()
        .with_bucket_name(BUCKET)
        .with_endpoint(endpoint)
        .with_region("us-east-1")
        .with_access_key_id("testing")
        .with_secret_access_key("testing")
        .with_allow_http(true)
        .build()
        .unwrap()
}

/// Every key in the bucket (evidence keys are two levels deep).
async fn keys(bucket: &AmazonS3) -> Vec<String> {
    let mut out = Vec::new();
    let mut dirs = vec![None];
    while let Some(dir) = dirs.pop() {
        let list = bucket.list_with_delimiter(dir.as_ref()).await.unwrap();
        out.extend(list.objects.iter().map(|o| o.location.to_string()));
        dirs.extend(list.common_prefixes.into_iter().map(Some));
    }
    out.sort();
    out
}

/// Files (not directories) under `dir`, recursively.
fn files_under(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// Whether moto can be started here.
fn moto_installed() -> bool {
    let ok = |program: &str, args: &[&str]| {
        Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    ok("moto_server", &["--help"]) || ok("python3", &["-c", "import moto.server"])
}

fn main() -> std::process::ExitCode {
    use redress_testkit::{Arguments, Trial};
    let args = Arguments::from_args();
    let name = "evidence_s3::two_instances_share_evidence_through_an_s3_bucket";
    let required = std::env::var("REDRESS_TEST_S3_REQUIRED").is_ok_and(|v| v == "1");
    let installed = moto_installed();
    let trial = Trial::test(name, || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            runtime.block_on(two_instances_share_evidence_through_an_s3_bucket())
        }))
        .map_err(|panic| {
            panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "the test panicked".into())
                .into()
        })
    });
    let trial = if installed || required {
        trial
    } else {
        if !args.list {
            eprintln!("S3 test NOT RUN: moto is not installed; {INSTALL}");
        }
        trial.with_ignored_flag(true)
    };
    redress_testkit::run_trials(&args, vec![trial]).exit_code()
}

async fn two_instances_share_evidence_through_an_s3_bucket() {
    let root = std::env::temp_dir().join(format!("redress-evidence-s3-{}", uuid::Uuid::now_v7()));
    std::fs::create_dir_all(&root).unwrap();
    let moto = start_moto(&root.join("moto.log"));
    let a = agent();
    let (status, body) = raw(&a, "PUT", &format!("{}/{BUCKET}", moto.endpoint));
    assert_eq!(
        status,
        200,
        "creating the bucket: {}",
        String::from_utf8_lossy(&body)
    );

    // Two instances: one database, two data directories, one bucket.
    let database = root.join("shared.sqlite3");
    let one = config(root.join("one"), &database, &moto.endpoint);
    let two = config(root.join("two"), &database, &moto.endpoint);
    let store = redress::open_store(&one).await.unwrap();
    let app_one = redress::build_app(&one, store.clone(), false)
        .await
        .unwrap();
    let app_two = redress::build_app(&two, store, false).await.unwrap();
    assert!(!app_one.evidence.is_local());
    assert_eq!(app_two.evidence.description, format!("s3://{BUCKET}/cases"));

    let bytes = "退款凭证：订单 8812 已取消，商家拒绝退款。shared evidence"
        .as_bytes()
        .to_vec();
    let stored = app_one.evidence.put(&bytes).await.unwrap();
    let sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes));
    assert_eq!(stored.sha256, sha256, "the key is the content hash");
    assert_eq!(stored.content_type, "text/plain", "sniffed from the bytes");
    assert_eq!(stored.size, bytes.len() as u64);

    // The other instance reads it.
    assert_eq!(app_two.evidence.read(&sha256).await.unwrap(), bytes);

    // In the bucket under <prefix>/<2 hex>/<sha256>, nowhere else.
    let bucket = bucket(&moto.endpoint);
    let key = Key::from(format!("cases/{}/{sha256}", &sha256[..2]));
    let got = bucket
        .get(&key)
        .await
        .expect("the object under its hash-derived key");
    // The bucket holds it sealed with the data key, never in the clear.
    let in_bucket = got.bytes().await.unwrap().to_vec();
    assert!(!in_bucket.windows(8).any(|w| w == &bytes[..8]), "sealed");
    assert_eq!(
        app_one.vault.open_file(&sha256, &in_bucket),
        Some(bytes.clone())
    );
    assert_eq!(keys(&bucket).await, vec![key.to_string()]);
    for dir in [&one.data_dir, &two.data_dir] {
        assert!(
            files_under(&dir.join("evidence")).is_empty(),
            "no local evidence in {}",
            dir.display()
        );
    }

    // The same content through the other instance: the same key, stored once.
    let again = app_two.evidence.put(&bytes).await.unwrap();
    assert_eq!(again, stored);
    assert_eq!(keys(&bucket).await, vec![key.to_string()]);

    // The checks still come before the store.
    let elf = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0".to_vec();
    assert!(
        app_one.evidence.put(&elf).await.is_err(),
        "sniffing refuses"
    );
    let big = vec![b'a'; app_one.evidence.max_bytes as usize + 1];
    assert!(matches!(
        app_one.evidence.put(&big).await,
        Err(redress_app::error::AppError::TooLarge(_))
    ));
    let missing = "0".repeat(64);
    assert_eq!(
        app_two.evidence.read(&missing).await.unwrap_err().kind(),
        std::io::ErrorKind::NotFound
    );
    assert!(app_two.evidence.read("../../etc/passwd").await.is_err());

    drop(app_one);
    drop(app_two);
    drop(moto);
    let _ = std::fs::remove_dir_all(&root);
}
