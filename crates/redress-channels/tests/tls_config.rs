//! The receiver's STARTTLS configuration from the PEM files an operator
//! points `smtp_tls_cert` / `smtp_tls_key` at.

use redress_channels::intake::tls_config;

fn temp_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("redress-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn pem_files_make_a_server_config_and_bad_ones_are_named() {
    let dir = temp_dir();
    let rcgen::CertifiedKey { cert, signing_key } =
        rcgen::generate_simple_self_signed(vec!["mx.example.com".to_string()]).unwrap();
    let cert_path = dir.join("cert.pem");
    let key_path = dir.join("key.pem");
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, signing_key.serialize_pem()).unwrap();
    assert!(tls_config(&cert_path, &key_path).is_ok());

    // A key that does not belong to the certificate.
    let other = rcgen::generate_simple_self_signed(vec!["other.example.com".to_string()]).unwrap();
    let other_key = dir.join("other-key.pem");
    std::fs::write(&other_key, other.signing_key.serialize_pem()).unwrap();
    let e = tls_config(&cert_path, &other_key).unwrap_err();
    assert!(e.contains("smtp_tls"), "{e}");

    // Missing and empty files name the setting.
    let e = tls_config(&dir.join("missing.pem"), &key_path).unwrap_err();
    assert!(e.starts_with("smtp_tls_cert"), "{e}");
    let empty = dir.join("empty.pem");
    std::fs::write(&empty, "").unwrap();
    let e = tls_config(&empty, &key_path).unwrap_err();
    assert!(e.starts_with("smtp_tls_cert"), "{e}");
    let e = tls_config(&cert_path, &empty).unwrap_err();
    assert!(e.starts_with("smtp_tls_key"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}
