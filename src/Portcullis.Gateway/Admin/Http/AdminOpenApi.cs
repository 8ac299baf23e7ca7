using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Portcullis.Gateway.Admin.Http;

/// <summary>
/// What the generated OpenAPI document says beyond the endpoints: its title, the bearer scheme every operation needs,
/// and the 401 each can answer. The document itself is served without a token: it describes the API and holds no data.
/// </summary>
internal static class AdminOpenApi
{
    private const string Scheme = "bearer";

    public static void Configure(OpenApiOptions options)
    {
        options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info = new OpenApiInfo
            {
                Title = "Portcullis admin API",
                Version = "v1",
                Description = "Peers, static forwards, dynamic mappings, policy and status of one Portcullis gateway. "
                    + "Every request carries 'Authorization: Bearer TOKEN', the token in the gateway's [admin] token_file. "
                    + "Errors are RFC 7807 problem+json; 'detail' gives the reason.",
            };
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes[Scheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = Scheme,
                Description = "The token in the gateway's [admin] token_file (32 random bytes, base64url).",
            };
            document.Security ??= [];
            document.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(Scheme, document)] = [] });
            return Task.CompletedTask;
        });
        options.AddOperationTransformer((operation, _, _) =>
        {
            operation.Responses ??= [];
            operation.Responses.TryAdd("401", new OpenApiResponse { Description = "No bearer token, or not this gateway's." });
            return Task.CompletedTask;
        });
    }
}
