//! ACME authorizations, challenges and the polls of challenge answers.

use peter_core::app::Peter;
use peter_core::model::*;
use poem_openapi::OpenApi;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;

use super::ApiTags;
use super::answer::*;
use super::auth::AdminToken;
use crate::views::*;
use crate::wire::Paging;

/// Authorization and challenge routes.
pub struct AuthorizationsApi(pub Peter);

#[OpenApi(tag = "ApiTags::AcmeAuthorization")]
impl AuthorizationsApi {
    /// Authorizations, newest first.
    #[oai(
        path = "/acme-authorizations",
        method = "get",
        operation_id = "acme_authorization_list"
    )]
    async fn authz_list(
        &self,
        _auth: AdminToken,
        paging: Paging,
    ) -> ApiResult<Json<AcmeAuthorizationsList>> {
        let paged = self.0.orders().list_authorizations(paging.page()).await?;
        Ok(Json(AcmeAuthorizationsList::of(&paged)))
    }

    /// One authorization.
    #[oai(
        path = "/acme-authorization/:id",
        method = "get",
        operation_id = "acme_authorization_focus"
    )]
    async fn authz_focus(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
    ) -> ApiResult<Json<AcmeAuthorizationAnswer>> {
        let a = self
            .0
            .orders()
            .authorization(AcmeAuthorizationId(id.0))
            .await?;
        Ok(Json(AcmeAuthorizationAnswer::of(&a)))
    }

    /// The authorization's challenges.
    #[oai(
        path = "/acme-authorization/:id/acme-challenges",
        method = "get",
        operation_id = "acme_authorization_acme_challenges"
    )]
    async fn authz_challenges(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
    ) -> ApiResult<Json<AcmeChallengesList>> {
        let list = self
            .0
            .orders()
            .authorization_challenges(AcmeAuthorizationId(id.0))
            .await?;
        Ok(Json(AcmeChallengesList::whole(&list)))
    }

    /// Reads the authorization from the server.
    #[oai(
        path = "/acme-authorization/:id/acme-server/sync",
        method = "post",
        operation_id = "acme_authorization_sync"
    )]
    async fn authz_sync(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
    ) -> ApiResult<Json<AcmeAuthorizationAnswer>> {
        let a = self
            .0
            .orders()
            .sync_authorization(AcmeAuthorizationId(id.0))
            .await?;
        Ok(Json(AcmeAuthorizationAnswer::of(&a)))
    }

    /// Deactivates the authorization at the server.
    #[oai(
        path = "/acme-authorization/:id/acme-server/deactivate",
        method = "post",
        operation_id = "acme_authorization_deactivate"
    )]
    async fn authz_deactivate(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
    ) -> ApiResult<Json<AcmeAuthorizationAnswer>> {
        let a = self
            .0
            .orders()
            .deactivate_authorization(AcmeAuthorizationId(id.0))
            .await?;
        Ok(Json(AcmeAuthorizationAnswer::of(&a)))
    }

    /// Challenges, newest first.
    #[oai(
        path = "/acme-challenges",
        method = "get",
        operation_id = "acme_challenge_list"
    )]
    async fn challenge_list(
        &self,
        _auth: AdminToken,
        paging: Paging,
    ) -> ApiResult<Json<AcmeChallengesList>> {
        let paged = self.0.orders().list_challenges(paging.page()).await?;
        Ok(Json(AcmeChallengesList::of(&paged)))
    }

    /// One challenge.
    #[oai(
        path = "/acme-challenge/:id",
        method = "get",
        operation_id = "acme_challenge_focus"
    )]
    async fn challenge_focus(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
    ) -> ApiResult<Json<AcmeChallengeAnswer>> {
        let c = self.0.orders().challenge(AcmeChallengeId(id.0)).await?;
        Ok(Json(AcmeChallengeAnswer::of(&c)))
    }

    /// The fetches of the challenge peter answered.
    #[oai(
        path = "/acme-challenge/:id/acme-challenge-polls",
        method = "get",
        operation_id = "acme_challenge_polls"
    )]
    async fn challenge_polls(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
    ) -> ApiResult<Json<AcmeChallengePollsList>> {
        let list = self
            .0
            .orders()
            .challenge_polls(AcmeChallengeId(id.0))
            .await?;
        Ok(Json(AcmeChallengePollsList::whole(&list)))
    }

    /// Reads the challenge from the server.
    #[oai(
        path = "/acme-challenge/:id/acme-server/sync",
        method = "post",
        operation_id = "acme_challenge_sync"
    )]
    async fn challenge_sync(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
    ) -> ApiResult<Json<AcmeChallengeAnswer>> {
        let c = self
            .0
            .orders()
            .sync_challenge(AcmeChallengeId(id.0))
            .await?;
        Ok(Json(AcmeChallengeAnswer::of(&c)))
    }

    /// Tells the server the challenge is ready to be validated.
    #[oai(
        path = "/acme-challenge/:id/acme-server/trigger",
        method = "post",
        operation_id = "acme_challenge_trigger"
    )]
    async fn challenge_trigger(
        &self,
        _auth: AdminToken,
        id: Path<i64>,
    ) -> ApiResult<Json<AcmeChallengeAnswer>> {
        let c = self
            .0
            .orders()
            .trigger_challenge(AcmeChallengeId(id.0))
            .await?;
        Ok(Json(AcmeChallengeAnswer::of(&c)))
    }

    /// Answered challenge fetches, newest first.
    #[oai(
        path = "/acme-challenge-polls",
        method = "get",
        operation_id = "acme_challenge_poll_list"
    )]
    async fn poll_list(
        &self,
        _auth: AdminToken,
        paging: Paging,
    ) -> ApiResult<Json<AcmeChallengePollsList>> {
        let paged = self.0.orders().list_challenge_polls(paging.page()).await?;
        Ok(Json(AcmeChallengePollsList::of(&paged)))
    }

    /// Challenge fetches peter had no answer for, newest first.
    #[oai(
        path = "/acme-challenge-unknown-polls",
        method = "get",
        operation_id = "acme_challenge_unknown_poll_list"
    )]
    async fn unknown_poll_list(
        &self,
        _auth: AdminToken,
        paging: Paging,
    ) -> ApiResult<Json<AcmeChallengeUnknownPollsList>> {
        let paged = self
            .0
            .orders()
            .list_unknown_challenge_polls(paging.page())
            .await?;
        Ok(Json(AcmeChallengeUnknownPollsList::of(&paged)))
    }
}
