using System.Collections.Immutable;
using Durar.Actors.Chat;
using Durar.Actors.Models;

namespace Durar.Actors.Routing;

/// <summary>
/// Reference item 13: images reach a model only if its catalog <c>input</c> includes <c>image</c>. A request carrying an
/// <c>image_url</c> part keeps the candidates that read images; the first one that cannot is replaced by
/// <c>agents.defaults.imageModel</c> (its primary, then its fallbacks), and the others that cannot are dropped. With no
/// image model and no candidate left, the request is a 400 naming the model, before any upstream call. The switch is
/// per request (per session turn): nothing about it is stored. Used by stateless requests
/// (<c>ChatCompletionsApi.Plan</c>, so every dialect) and by session turns, on the request the session built.
/// </summary>
internal static class ImageRouting
{
    /// <summary>The catalog's input kind of a model that reads images.</summary>
    public const string ImageInput = "image";

    /// <summary>True when a message of <paramref name="request"/> has an image part.</summary>
    public static bool HasImages(ChatRequest request)
    {
        foreach (var m in request.Messages)
            if (!m.Parts.IsDefaultOrEmpty)
                foreach (var p in m.Parts)
                    if (p.Type == ContentPartTypes.ImageUrl) return true;
        return false;
    }

    /// <summary>True when the catalog says <paramref name="model"/> reads images.</summary>
    public static bool AcceptsImages(ResolvedModel model) => model.Model.Input.Contains(ImageInput);

    /// <summary>
    /// <paramref name="plan"/> as it must run for <paramref name="request"/>: itself when the request has no image or every
    /// candidate reads images.
    /// </summary>
    /// <exception cref="PlanException">400 <c>image_not_supported</c> naming the model; or a configured image model that does not resolve.</exception>
    public static RunPlan Route(RunPlan plan, ChatRequest request, ModelResolver resolver)
    {
        if (!HasImages(request) || plan.Candidates.All(AcceptsImages)) return plan;
        var image = resolver.ImageModel;
        var kept = ImmutableArray.CreateBuilder<ResolvedModel>();
        var seen = new HashSet<ModelRef>();
        var routed = false;
        foreach (var candidate in plan.Candidates)
        {
            if (AcceptsImages(candidate))
            {
                if (seen.Add(candidate.Ref)) kept.Add(candidate);
            }
            else if (!routed && image.Primary is { } primary)
            {
                routed = true;
                // The operator named these for images: they are used even when their catalog entry does not say "image".
                foreach (var name in image.Fallbacks.Prepend(primary))
                {
                    var resolved = resolver.Resolve(name);
                    if (!resolved.Success)
                        throw new PlanException(400, $"agents.defaults.imageModel names \"{name}\", which cannot be used: {resolved.Message}",
                            "image_model_not_found", "model");
                    if (seen.Add(resolved.Model!.Ref)) kept.Add(resolved.Model!);
                }
            }
        }
        if (kept.Count == 0)
            throw new PlanException(400, $"Model \"{plan.Requested}\" does not accept images (its catalog input is "
                + $"{string.Join(", ", plan.Requested.Model.Input)}) and agents.defaults.imageModel is not set: add \"image\" to the model's input "
                + $"(models.providers.{plan.Requested.Provider.Id}.models[].input = [\"text\", \"image\"]) or set agents.defaults.imageModel.",
                "image_not_supported", "model");
        return plan with { Candidates = kept.ToImmutable() };
    }
}
