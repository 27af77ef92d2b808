//! The files peter hands out, named as the spec's download table names them:
//! the suffix fixes the encoding and the content type. One table, used by
//! the HTTP routes, the CLI and the download service.

use super::ClosedSet;
use super::closed::closed_set;

/// How a file's bytes are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// PEM text.
    Pem,
    /// DER (a certificate) or PKCS#8 DER (a key).
    Der,
}

closed_set!(
    /// Every downloadable file, by its name.
    DownloadFormat, "file" {
        /// A certificate, PEM.
        CertPem => "cert.pem",
        /// A certificate, PEM shown as text.
        CertPemTxt => "cert.pem.txt",
        /// A certificate, DER (`application/pkix-cert`).
        CertCer => "cert.cer",
        /// A certificate, DER.
        CertCrt => "cert.crt",
        /// A certificate, DER.
        CertDer => "cert.der",
        /// A chain, PEM.
        ChainPem => "chain.pem",
        /// A chain, PEM shown as text.
        ChainPemTxt => "chain.pem.txt",
        /// Certificate and chain, PEM.
        FullchainPem => "fullchain.pem",
        /// Certificate and chain, PEM shown as text.
        FullchainPemTxt => "fullchain.pem.txt",
        /// A certificate's private key, PKCS#8 PEM.
        PrivkeyPem => "privkey.pem",
        /// A certificate's private key, PKCS#8 PEM shown as text.
        PrivkeyPemTxt => "privkey.pem.txt",
        /// A certificate's private key, PKCS#8 DER.
        PrivkeyKey => "privkey.key",
        /// A key, PKCS#8 PEM.
        KeyPem => "key.pem",
        /// A key, PKCS#8 PEM shown as text.
        KeyPemTxt => "key.pem.txt",
        /// A key, PKCS#8 DER.
        KeyKey => "key.key",
        /// A certificate request, PEM.
        CsrPem => "csr.pem",
        /// A certificate request, PEM shown as text.
        CsrPemTxt => "csr.pem.txt",
        /// A certificate request, PEM (`application/pkcs10`).
        CsrCsr => "csr.csr",
    }
);

/// The content type of PEM files.
pub const CONTENT_TYPE_PEM: &str = "application/x-pem-file";
/// The content type of PEM shown as text.
pub const CONTENT_TYPE_TEXT: &str = "text/plain";

impl DownloadFormat {
    /// The file name.
    pub fn name(self) -> &'static str {
        self.as_str()
    }

    /// The content type it is served with (the CA variants of the DER
    /// certificate names differ: see [`DownloadFormat::content_type_for_ca`]).
    pub fn content_type(self) -> &'static str {
        use DownloadFormat::*;
        match self {
            CertPemTxt | ChainPemTxt | FullchainPemTxt | PrivkeyPemTxt | KeyPemTxt | CsrPemTxt => {
                CONTENT_TYPE_TEXT
            }
            CertPem | ChainPem | FullchainPem | PrivkeyPem | KeyPem | CsrPem => CONTENT_TYPE_PEM,
            CertCer => "application/pkix-cert",
            CertCrt | CertDer => "application/x-x509-server-cert",
            PrivkeyKey | KeyKey => "application/pkcs8",
            CsrCsr => "application/pkcs10",
        }
    }

    /// The content type when the file is a CA certificate.
    pub fn content_type_for_ca(self) -> &'static str {
        match self {
            DownloadFormat::CertCrt | DownloadFormat::CertDer => "application/x-x509-ca-cert",
            other => other.content_type(),
        }
    }

    /// PEM or DER.
    pub fn encoding(self) -> Encoding {
        use DownloadFormat::*;
        match self {
            CertCer | CertCrt | CertDer | PrivkeyKey | KeyKey => Encoding::Der,
            _ => Encoding::Pem,
        }
    }

    /// Whether the file holds private key material (write it 0600; never cache it).
    pub fn is_private(self) -> bool {
        use DownloadFormat::*;
        matches!(
            self,
            PrivkeyPem | PrivkeyPemTxt | PrivkeyKey | KeyPem | KeyPemTxt | KeyKey
        )
    }
}

/// Declares a subset of [`DownloadFormat`] as a closed set of its own, so
/// each route documents and accepts exactly its files.
macro_rules! file_subset {
    ($(#[$doc:meta])* $name:ident, $what:literal { $($variant:ident => $text:literal),* $(,)? }) => {
        closed_set!(
            $(#[$doc])*
            $name, $what {
                $(
                    #[doc = concat!("`", $text, "`")]
                    $variant => $text
                ),*
            }
        );

        impl $name {
            /// The file in the common table.
            pub fn format(self) -> DownloadFormat {
                match self { $($name::$variant => DownloadFormat::$variant),* }
            }
        }
    };
}

file_subset!(
    /// The files of a certificate (with its chain and key).
    CertificateFile, "certificate file" {
        CertPem => "cert.pem",
        CertPemTxt => "cert.pem.txt",
        CertCer => "cert.cer",
        CertCrt => "cert.crt",
        CertDer => "cert.der",
        ChainPem => "chain.pem",
        ChainPemTxt => "chain.pem.txt",
        FullchainPem => "fullchain.pem",
        FullchainPemTxt => "fullchain.pem.txt",
        PrivkeyPem => "privkey.pem",
        PrivkeyPemTxt => "privkey.pem.txt",
        PrivkeyKey => "privkey.key",
    }
);

file_subset!(
    /// The files of a certificate through a chosen chain.
    ViaChainFile, "file through a chain" {
        ChainPem => "chain.pem",
        ChainPemTxt => "chain.pem.txt",
        FullchainPem => "fullchain.pem",
        FullchainPemTxt => "fullchain.pem.txt",
    }
);

file_subset!(
    /// The files of a CA certificate.
    CaFile, "CA certificate file" {
        CertPem => "cert.pem",
        CertPemTxt => "cert.pem.txt",
        CertCer => "cert.cer",
        CertCrt => "cert.crt",
        CertDer => "cert.der",
    }
);

file_subset!(
    /// The files of a CA chain.
    ChainFile, "chain file" {
        ChainPem => "chain.pem",
        ChainPemTxt => "chain.pem.txt",
    }
);

file_subset!(
    /// The files of a certificate request.
    CsrFile, "certificate request file" {
        CsrPem => "csr.pem",
        CsrPemTxt => "csr.pem.txt",
        CsrCsr => "csr.csr",
    }
);

file_subset!(
    /// The files of a private key or an account key.
    KeyFile, "key file" {
        KeyPem => "key.pem",
        KeyPemTxt => "key.pem.txt",
        KeyKey => "key.key",
    }
);

impl ViaChainFile {
    /// The same file among a certificate's files.
    pub fn certificate_file(self) -> CertificateFile {
        match self {
            ViaChainFile::ChainPem => CertificateFile::ChainPem,
            ViaChainFile::ChainPemTxt => CertificateFile::ChainPemTxt,
            ViaChainFile::FullchainPem => CertificateFile::FullchainPem,
            ViaChainFile::FullchainPemTxt => CertificateFile::FullchainPemTxt,
        }
    }
}
