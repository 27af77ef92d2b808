//! Certificate requests and sets of names.

use peter_core::app::Peter;
use peter_core::model::*;
use poem_openapi::OpenApi;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;

use super::ApiTags;
use super::answer::*;
use super::auth::AdminToken;
use crate::views::*;
use crate::wire::{Paging, Wire};

/// Certificate request and name set routes.
pub struct RequestsApi(pub Peter);

#[OpenApi(tag = "ApiTags::CertificateRequest")]
impl RequestsApi {
    /// Certificate requests.
    #[oai(
        path = "/certificate-requests",
        method = "get",
        operation_id = "certificate_request_list"
    )]
    async fn csr_list(
        &self,
        _auth: AdminToken,
        paging: Paging,
    ) -> ApiResult<Json<CertificateRequestsList>> {
        let paged = self
            .0
            .orders()
            .list_certificate_requests(paging.page())
            .await?;
        Ok(Json(CertificateRequestsList::of(&paged)))
    }

    /// One certificate request.
    #[oai(
        path = "/certificate-request/:id",
        method = "get",
        operation_id = "certificate_request_focus"
    )]
    async fn csr_focus(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
    ) -> ApiResult<Json<CertificateRequestAnswer>> {
        let csr = self
            .0
            .orders()
            .certificate_request(CertificateRequestId(id.0))
            .await?;
        Ok(Json(CertificateRequestAnswer::of(&csr)))
    }

    /// A certificate request's file.
    #[oai(
        path = "/certificate-request/:id/:file",
        method = "get",
        operation_id = "certificate_request_file"
    )]
    async fn csr_file(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
        file: Path<Wire<CsrFile>>,
    ) -> ApiResult<FileDownload<CsrFile>> {
        let d = self
            .0
            .orders()
            .certificate_request_download(CertificateRequestId(id.0), file.0.0)
            .await?;
        Ok(FileDownload::new(d))
    }

    /// Name sets.
    #[oai(
        path = "/unique-fqdn-sets",
        method = "get",
        operation_id = "unique_fqdn_set_list"
    )]
    async fn set_list(
        &self,
        _auth: AdminToken,
        paging: Paging,
    ) -> ApiResult<Json<UniqueFqdnSetsList>> {
        let paged = self.0.orders().list_unique_fqdn_sets(paging.page()).await?;
        Ok(Json(UniqueFqdnSetsList::of(&paged)))
    }

    /// One name set.
    #[oai(
        path = "/unique-fqdn-set/:id",
        method = "get",
        operation_id = "unique_fqdn_set_focus"
    )]
    async fn set_focus(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
    ) -> ApiResult<Json<UniqueFqdnSetAnswer>> {
        let set = self
            .0
            .orders()
            .unique_fqdn_set(UniqueFqdnSetId(id.0))
            .await?;
        Ok(Json(UniqueFqdnSetAnswer::of(&set)))
    }
}
