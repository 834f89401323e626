//! Real x509 certificates on a node whose PKI kubeadm made: re-issuing a certificate with a
//! chosen validity (the expired-certs lab), and inspecting one for graders. rcgen makes
//! certificates, x509-parser reads them; keys are kubeadm's own, RSA or ECDSA.

use std::net::IpAddr;
use std::path::Path;
use std::time::{Duration, SystemTime};

use rcgen::{
    CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, Issuer, KeyPair,
    KeyUsagePurpose,
};

/// A certificate or key could not be made, read or written.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct PkiError(String);

impl PkiError {
    fn at(path: &Path, what: impl std::fmt::Display) -> PkiError {
        PkiError(format!("{}: {what}", path.display()))
    }
}

/// What a grader needs to know of a certificate.
#[derive(Debug, Clone)]
pub struct CertInfo {
    pub not_before: SystemTime,
    pub not_after: SystemTime,
    pub subject_cn: String,
    pub issuer_cn: String,
}

enum Usage {
    Server,
    Client,
    Both,
}

/// Issues a new certificate at `cert` for the existing key at `key`, signed by `ca`/`ca_key`,
/// with the subject, SANs and usages of the certificate at `like`, valid from `from_days` to
/// `to_days` relative to `now` (negative: in the past).
#[allow(clippy::too_many_arguments)]
pub fn reissue(
    cert: &Path,
    key: &Path,
    ca: &Path,
    ca_key: &Path,
    like: &Path,
    from_days: i64,
    to_days: i64,
    now: SystemTime,
) -> Result<(), PkiError> {
    let mut params = params_like(&read(like)?).map_err(|e| PkiError::at(like, e))?;
    set_validity(&mut params, now, from_days, to_days);
    let key_pair = load_key(key)?;
    let issuer = Issuer::from_ca_cert_pem(&read(ca)?, load_key(ca_key)?)
        .map_err(|e| PkiError::at(ca, format!("not a CA certificate: {e}")))?;
    let new = params
        .signed_by(&key_pair, &issuer)
        .map_err(|e| PkiError::at(cert, e))?;
    write(cert, &new.pem(), 0o644)
}

/// The subject, SANs and usages of an existing leaf certificate, for its replacement.
fn params_like(pem: &str) -> Result<CertificateParams, String> {
    use x509_parser::extensions::GeneralName;
    let (_, pem) = x509_parser::pem::parse_x509_pem(pem.as_bytes())
        .map_err(|e| format!("no PEM block: {e}"))?;
    let cert = pem
        .parse_x509()
        .map_err(|e| format!("not a certificate: {e}"))?;
    let text = |attr: &x509_parser::x509::AttributeTypeAndValue| {
        attr.as_str().map(str::to_string).map_err(|e| e.to_string())
    };
    let orgs = cert
        .subject()
        .iter_organization()
        .map(text)
        .collect::<Result<Vec<_>, _>>()?;
    let cn = cert
        .subject()
        .iter_common_name()
        .next()
        .map(text)
        .transpose()?
        .unwrap_or_default();
    let mut sans = Vec::new();
    if let Ok(Some(ext)) = cert.subject_alternative_name() {
        for name in &ext.value.general_names {
            match name {
                GeneralName::DNSName(dns) => sans.push(dns.to_string()),
                GeneralName::IPAddress(bytes) => {
                    let ip = match bytes.len() {
                        4 => <[u8; 4]>::try_from(*bytes).map(IpAddr::from).ok(),
                        16 => <[u8; 16]>::try_from(*bytes).map(IpAddr::from).ok(),
                        _ => None,
                    };
                    sans.extend(ip.map(|ip| ip.to_string()));
                }
                _ => {}
            }
        }
    }
    let usage = match cert.extended_key_usage() {
        Ok(Some(eku)) if eku.value.server_auth && eku.value.client_auth => Usage::Both,
        Ok(Some(eku)) if eku.value.server_auth => Usage::Server,
        _ => Usage::Client,
    };
    let orgs: Vec<&str> = orgs.iter().map(String::as_str).collect();
    let sans: Vec<&str> = sans.iter().map(String::as_str).collect();
    leaf_params(&cn, &orgs, &sans, usage).map_err(|e| e.to_string())
}

/// Hands the first certificate of a PEM file's contents to `read`.
fn with_certificate<T>(
    pem: &[u8],
    read: impl FnOnce(&x509_parser::certificate::X509Certificate<'_>) -> T,
) -> Result<T, PkiError> {
    let (_, pem) = x509_parser::pem::parse_x509_pem(pem)
        .map_err(|e| PkiError(format!("no PEM block: {e}")))?;
    let cert = pem
        .parse_x509()
        .map_err(|e| PkiError(format!("not an x509 certificate: {e}")))?;
    Ok(read(&cert))
}

/// Reads the first certificate of a PEM file's contents.
pub fn inspect(pem: &[u8]) -> Result<CertInfo, PkiError> {
    with_certificate(pem, cert_info)
}

fn cert_info(cert: &x509_parser::certificate::X509Certificate<'_>) -> CertInfo {
    let time = |t: x509_parser::time::ASN1Time| {
        let seconds = t.timestamp();
        if seconds >= 0 {
            SystemTime::UNIX_EPOCH + Duration::from_secs(seconds.unsigned_abs())
        } else {
            SystemTime::UNIX_EPOCH - Duration::from_secs(seconds.unsigned_abs())
        }
    };
    let cn = |name: &x509_parser::x509::X509Name| {
        name.iter_common_name()
            .next()
            .and_then(|cn| cn.as_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    CertInfo {
        not_before: time(cert.validity().not_before),
        not_after: time(cert.validity().not_after),
        subject_cn: cn(cert.subject()),
        issuer_cn: cn(cert.issuer()),
    }
}

/// Whether the certificate's signature verifies with the CA's public key (what
/// `openssl verify -CAfile ca.crt cert` checks, minus the dates, which graders check apart).
pub fn signed_by(cert_pem: &[u8], ca_pem: &[u8]) -> Result<bool, PkiError> {
    let (_, cert_pem) = x509_parser::pem::parse_x509_pem(cert_pem)
        .map_err(|e| PkiError(format!("the certificate: no PEM block: {e}")))?;
    let (_, ca_pem) = x509_parser::pem::parse_x509_pem(ca_pem)
        .map_err(|e| PkiError(format!("the CA: no PEM block: {e}")))?;
    let cert = cert_pem
        .parse_x509()
        .map_err(|e| PkiError(format!("the certificate: {e}")))?;
    let ca = ca_pem
        .parse_x509()
        .map_err(|e| PkiError(format!("the CA: {e}")))?;
    Ok(cert.issuer() == ca.subject() && cert.verify_signature(Some(ca.public_key())).is_ok())
}

fn leaf_params(
    cn: &str,
    orgs: &[&str],
    sans: &[&str],
    usage: Usage,
) -> Result<CertificateParams, PkiError> {
    let mut params = CertificateParams::new(sans.iter().map(|s| s.to_string()).collect::<Vec<_>>())
        .map_err(|e| PkiError(format!("{cn}: {e}")))?;
    params.distinguished_name = dn(cn, orgs);
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = match usage {
        Usage::Server => vec![ExtendedKeyUsagePurpose::ServerAuth],
        Usage::Client => vec![ExtendedKeyUsagePurpose::ClientAuth],
        Usage::Both => vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ],
    };
    params.use_authority_key_identifier_extension = true;
    Ok(params)
}

fn dn(cn: &str, orgs: &[&str]) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    for org in orgs {
        dn.push(DnType::OrganizationName, *org);
    }
    dn.push(DnType::CommonName, cn);
    dn
}

fn set_validity(params: &mut CertificateParams, now: SystemTime, from_days: i64, to_days: i64) {
    let now = time::OffsetDateTime::from(now);
    // A few minutes of slack before "now", as kubeadm does for clock skew.
    params.not_before = now + time::Duration::days(from_days) - time::Duration::minutes(5);
    params.not_after = now + time::Duration::days(to_days);
}

/// Reads a private key: PKCS#8, or what kubeadm writes, which rcgen only takes once rewrapped
/// as PKCS#8: `RSA PRIVATE KEY` (PKCS#1) or `EC PRIVATE KEY` (SEC 1, its ECDSA-P256 keys).
fn load_key(path: &Path) -> Result<KeyPair, PkiError> {
    /// AlgorithmIdentifier { rsaEncryption, NULL }.
    const RSA: [u8; 15] = [
        0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
    ];
    /// AlgorithmIdentifier { id-ecPublicKey, prime256v1 }.
    const EC_P256: [u8; 21] = [
        0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86,
        0x48, 0xce, 0x3d, 0x03, 0x01, 0x07,
    ];
    let text = read(path)?;
    let bad = |e: String| PkiError::at(path, format!("not a private key ({e})"));
    let wrapped = [
        ("RSA PRIVATE KEY", &RSA[..], &rcgen::PKCS_RSA_SHA256),
        (
            "EC PRIVATE KEY",
            &EC_P256[..],
            &rcgen::PKCS_ECDSA_P256_SHA256,
        ),
    ];
    for (label, algorithm, sign) in wrapped {
        if let Some(inner) = pem_der(&text, label) {
            let pkcs8 = rustls::pki_types::PrivatePkcs8KeyDer::from(to_pkcs8(
                algorithm,
                &inner.map_err(bad)?,
            ));
            return KeyPair::from_pkcs8_der_and_sign_algo(&pkcs8, sign)
                .map_err(|e| bad(e.to_string()));
        }
    }
    KeyPair::from_pem(&text).map_err(|e| bad(e.to_string()))
}

/// The DER inside a `-----BEGIN <label>-----` block, if the text is one.
fn pem_der(text: &str, label: &str) -> Option<Result<Vec<u8>, String>> {
    use base64::Engine as _;
    let body = text
        .split(&format!("-----BEGIN {label}-----"))
        .nth(1)?
        .split(&format!("-----END {label}-----"))
        .next()?;
    let base64: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    Some(
        base64::engine::general_purpose::STANDARD
            .decode(base64)
            .map_err(|e| e.to_string()),
    )
}

/// PrivateKeyInfo { version 0, `algorithm`, OCTET STRING key }.
fn to_pkcs8(algorithm: &[u8], key: &[u8]) -> Vec<u8> {
    let mut body = vec![0x02, 0x01, 0x00];
    body.extend(algorithm);
    body.extend(der(0x04, key));
    der(0x30, &body)
}

/// One DER tag-length-value.
fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let len = content.len();
    let mut out = vec![tag];
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend(content);
    out
}

fn read(path: &Path) -> Result<String, PkiError> {
    std::fs::read_to_string(path).map_err(|e| PkiError::at(path, e))
}

fn write(path: &Path, text: &str, mode: u32) -> Result<(), PkiError> {
    use std::os::unix::fs::PermissionsExt;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| PkiError::at(parent, e))?;
    }
    std::fs::write(path, text).map_err(|e| PkiError::at(path, e))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| PkiError::at(path, e))
}

/// What `kubeadm join --discovery-token-ca-cert-hash` pins: `sha256:` and the hex SHA-256 of the
/// CA certificate's SubjectPublicKeyInfo (DER), as kubeadm computes it.
pub fn ca_cert_hash(ca_pem: &[u8]) -> Result<String, PkiError> {
    with_certificate(ca_pem, |cert| {
        let digest = ring::digest::digest(&ring::digest::SHA256, cert.public_key().raw);
        format!("sha256:{}", hex(digest.as_ref()))
    })
}

/// Opens one value of kubeadm's `kubeadm-certs` Secret with the hex certificate key given to
/// `kubeadm init phase upload-certs`: AES-256-GCM, the 12-byte nonce first, the tag last.
pub fn open_uploaded(certificate_key: &str, sealed: &[u8]) -> Result<Vec<u8>, PkiError> {
    use ring::aead::{AES_256_GCM, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
    let key = unhex(certificate_key)
        .filter(|key| key.len() == 32)
        .ok_or_else(|| PkiError("a certificate key is 64 hex digits (32 bytes)".into()))?;
    let key = LessSafeKey::new(
        UnboundKey::new(&AES_256_GCM, &key).map_err(|_| PkiError("not an AES-256 key".into()))?,
    );
    if sealed.len() < NONCE_LEN {
        return Err(PkiError("the sealed value is too short".into()));
    }
    let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce)
        .map_err(|_| PkiError("the sealed value has no nonce".into()))?;
    let mut data = ciphertext.to_vec();
    let opened = key
        .open_in_place(nonce, ring::aead::Aad::empty(), &mut data)
        .map_err(|_| PkiError("it is not the key they were encrypted with".into()))?;
    Ok(opened.to_vec())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Re-issues `dir/apiserver.crt` as `like` with a validity that ended ten days ago, and
    /// checks the new certificate: same subject, expired, signed by `dir/ca.crt`.
    fn reissue_expired_and_check(dir: &Path, like: &str) {
        let p = |f: &str| dir.join(f);
        reissue(
            &p("apiserver.crt"),
            &p("apiserver.key"),
            &p("ca.crt"),
            &p("ca.key"),
            &p(like),
            -400,
            -10,
            SystemTime::now(),
        )
        .expect("reissue");
        let new = std::fs::read(p("apiserver.crt")).expect("read");
        let info = inspect(&new).expect("inspect");
        assert_eq!(info.subject_cn, "kube-apiserver");
        assert!(info.not_after < SystemTime::now());
        let ca = std::fs::read(p("ca.crt")).expect("ca");
        assert_eq!(signed_by(&new, &ca).ok(), Some(true));
    }

    /// A CA and an apiserver certificate made with openssl as kubeadm makes them, with keys
    /// from `genkey` (the key file's name appended).
    fn openssl_pki(dir: &Path, genkey: &[&str]) -> impl Fn(&[&str]) -> String {
        let cwd = dir.to_path_buf();
        let openssl = move |args: &[&str]| {
            let output = std::process::Command::new("openssl")
                .args(args)
                .current_dir(&cwd)
                .output()
                .expect("openssl runs (scripts/install-deps.sh installs it)");
            assert!(output.status.success(), "openssl {args:?}");
            String::from_utf8_lossy(&output.stdout).into_owned()
        };
        for key in ["ca.key", "apiserver.key"] {
            openssl(&[genkey, &[key]].concat());
        }
        std::fs::write(
            dir.join("san.ext"),
            "subjectAltName=DNS:kubernetes,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
        )
        .expect("ext");
        openssl(&[
            "req",
            "-x509",
            "-new",
            "-key",
            "ca.key",
            "-subj",
            "/CN=kubernetes",
            "-days",
            "3650",
            "-out",
            "ca.crt",
        ]);
        openssl(&[
            "req",
            "-new",
            "-key",
            "apiserver.key",
            "-subj",
            "/CN=kube-apiserver",
            "-out",
            "apiserver.csr",
        ]);
        openssl(&[
            "x509",
            "-req",
            "-in",
            "apiserver.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "365",
            "-extfile",
            "san.ext",
            "-out",
            "apiserver.crt",
        ]);
        openssl
    }

    /// kind's PKI: RSA keys in PKCS#1.
    #[test]
    fn reissue_works_with_kubeadms_pkcs1_rsa_keys() {
        let dir = tempfile::tempdir().expect("tempdir");
        let openssl = openssl_pki(dir.path(), &["genrsa", "-traditional", "-out"]);
        assert!(
            std::fs::read_to_string(dir.path().join("ca.key"))
                .expect("key")
                .contains("BEGIN RSA PRIVATE KEY")
        );

        reissue_expired_and_check(dir.path(), "apiserver.crt");
        // openssl agrees: the chain verifies (the dates aside) and the names were kept.
        openssl(&[
            "verify",
            "-no_check_time",
            "-CAfile",
            "ca.crt",
            "apiserver.crt",
        ]);
        let sans = openssl(&[
            "x509",
            "-in",
            "apiserver.crt",
            "-noout",
            "-ext",
            "subjectAltName",
        ]);
        assert!(sans.contains("IP Address:127.0.0.1"), "{sans}");
    }

    /// The sandbox's PKI (`encryptionAlgorithm: ECDSA-P256`): EC keys in SEC 1.
    #[test]
    fn reissue_keeps_the_subject_and_moves_the_validity_with_ecdsa_sec1_keys() {
        let dir = tempfile::tempdir().expect("tempdir");
        let _openssl = openssl_pki(
            dir.path(),
            &[
                "ecparam",
                "-name",
                "prime256v1",
                "-genkey",
                "-noout",
                "-out",
            ],
        );
        assert!(
            std::fs::read_to_string(dir.path().join("apiserver.key"))
                .expect("key")
                .contains("BEGIN EC PRIVATE KEY")
        );
        std::fs::copy(dir.path().join("apiserver.crt"), dir.path().join("old.crt")).expect("copy");
        reissue_expired_and_check(dir.path(), "old.crt");
    }

    /// A real `kubeadm init phase upload-certs` (v1.35.4): the sealed ca.crt of its Secret,
    /// the key it printed, and the CA, whose hash `openssl pkey -pubin -outform der | sha256sum`
    /// gave.
    const KUBEADM_CA: &[u8] = include_bytes!("testdata/kubeadm-certs/ca.crt");
    const KUBEADM_SEALED_CA: &str = include_str!("testdata/kubeadm-certs/ca.crt.sealed");
    const KUBEADM_KEY: &str = include_str!("testdata/kubeadm-certs/certificate-key");

    #[test]
    fn the_ca_hash_is_kubeadm_s() {
        assert_eq!(
            ca_cert_hash(KUBEADM_CA).expect("a CA"),
            "sha256:5496a869288fa5ef08ffcfbccca35e601dc016568d9e7a08d42370aae533aa04"
        );
    }

    #[test]
    fn kubeadm_s_certificate_key_opens_its_upload_and_no_other_key_does() {
        use base64::Engine as _;
        let sealed = base64::engine::general_purpose::STANDARD
            .decode(KUBEADM_SEALED_CA.trim())
            .expect("base64");
        assert_eq!(
            open_uploaded(KUBEADM_KEY.trim(), &sealed).expect("kubeadm's key opens it"),
            KUBEADM_CA
        );
        let other = "3baa8e439fb3563bfb1615f7153c9f964d4bd4ae494af783faec5f49e4612b3d";
        assert!(open_uploaded(other, &sealed).is_err());
        assert!(open_uploaded("ed02ea8c", &sealed).is_err(), "too short");
        assert!(open_uploaded(&"zz".repeat(32), &sealed).is_err(), "not hex");
    }
}
