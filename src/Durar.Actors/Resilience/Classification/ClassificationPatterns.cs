// Over 300 lines on purpose: this file is a data table (every provider wording the classifier knows, one named table per
// rule, each row commented with where it comes from). Splitting it would scatter one ordered table across files and make
// the meta-test's "every table listed in All" harder to check by eye; the logic that walks it lives in MessageRules.

namespace Durar.Actors.Resilience;

/// <summary>
/// Every text pattern the failure classifier knows, as named tables of compiled regexes (reference items 36,
/// 41–46, 70). This is the one place to add a provider's wording; <see cref="FailureClassifier"/> only walks the
/// tables in the item-41 order. All patterns are case-insensitive, culture-invariant and single-line
/// (<c>.</c> crosses newlines, so pretty-printed JSON bodies match too).
/// Each table must be listed in <see cref="All"/> and each pattern needs a test row (a meta-test enforces both).
/// </summary>
internal static class ClassificationPatterns
{
    // ───────────────────────── message tables, in the order FailureClassifier.ClassifyMessage walks them ─────────────────────────

    /// <summary>Image size/dimension rejections: the classifier reports "no reason" for these (item 41, step 1).</summary>
    public static readonly PatternTable ImageRejection = Message(nameof(ImageRejection),
        @"\bimage dimensions exceed max allowed size\b",
        @"\bimage exceeds\s*\d+(?:\.\d+)?\s*mb\b");

    /// <summary>CLI/provider session or conversation gone → <c>session_expired</c>.</summary>
    public static readonly PatternTable SessionExpired = Message(nameof(SessionExpired),
        @"\b(?:session|conversation)(?:\s+id)?\s+(?:not found|does not exist|(?:has\s+)?expired|invalid)\b",
        @"\bno such (?:session|conversation)\b",
        @"\bno (?:session|conversation) found\b",
        @"\binvalid (?:session|conversation)\b");

    /// <summary>Unknown, retired or unserved model ids → <c>model_not_found</c>.</summary>
    public static readonly PatternTable ModelNotFound = Message(nameof(ModelNotFound),
        @"\bno endpoints found for\b",                                    // OpenRouter
        @"\brouter not found\b",
        @"\bunknown model\b",
        @"\bmodel\b[^\r\n]{0,120}?\b(?:was|is|has been) retired\b",
        @"\bwas retired at \d{4}-\d{2}-\d{2}\b",                           // Ollama names the model without the word "model"
        @"\bmodel[_\-\s]?not[_\-\s]?found\b",                             // model_not_found, ModelNotFound
        @"\bmodel\b.{0,60}?\bnot found\b",
        @"^(?=.*\b404\b)(?=.*\bnot[_\-\s]?found\b)",
        @"\bnot_found_error\b",                                          // Anthropic
        @"\bnot supported model\b",
        @"\bmodel\b[^.]{0,120}?\bis not supported when using\b[^.]{0,80}?\bwith a chatgpt account\b",
        @"\bmodels/\S+ is not found\b",                                   // Gemini
        @"^(?=.*\bmodel)(?=.*\bdoes not exist\b)",                         // OpenAI
        @"^(?=.*\bmodel)(?=.*\bdeprecated\b)(?=.*\b(?:upgrade|transition) to\b)",
        @"\bis not a valid model(?: id)?\b",
        @"\binvalid model\b(?! reference)",
        @"\bmodel(?:_is)?_deactivated\b|\bmodel\b.{0,80}?\bhas been deactivated\b"); // Groq

    /// <summary>
    /// "Tokens per minute" hints. Groq answers TPM limits with HTTP 413, so these veto <see cref="ContextOverflow"/>
    /// and count as rate-limit text (item 46).
    /// </summary>
    public static readonly PatternTable TokensPerMinute = Message(nameof(TokensPerMinute),
        @"\btpm\b",
        @"\btokens per min(?:ute)?\b");

    /// <summary>Prompt does not fit the context window → <c>context_overflow</c> (not failover; item 46).</summary>
    public static readonly PatternTable ContextOverflow = Message(nameof(ContextOverflow),
        @"\brequest_too_large\b",
        @"^(?=.*\binvalid_argument\b)(?=.*\bmaximum number of tokens\b)",
        @"\brequest exceeds the maximum size\b",
        @"\bcontext length exceeded\b",
        @"\bmaximum context length\b",
        @"\bprompt (?:is )?too long\b",
        @"\bexceeds (?:the )?model(?:'s)? (?:maximum )?context(?: window)?\b",
        @"\bmodel token limit\b",
        @"^(?=.*\binput exceeds\b)(?=.*\bmaximum number of tokens\b)",
        @"^(?=.*\bcontext (?:window|length)\b)(?=.*\bran out of (?:room|space)\b)",
        @"^(?=.*\brequest size exceeds\b)(?=.*\bcontext (?:window|length)\b)",
        @"\bcontext overflow:",
        @"\bexceeds? (?:the )?context limit\b",
        @"^(?=.*\bmax_tokens\b)(?=.*\bexceed)(?=.*\bcontext\b)",
        @"^(?=.*\binput length\b)(?=.*\bexceed)(?=.*\bcontext\b)",
        @"^(?=.*\b413\b)(?=.*\btoo large\b)",
        @"context_(?:window|length)_exceeded\b",                           // also model_context_window_exceeded
        @"上下文过长|上下文超出|上下文长度超|超出最大上下文|请压缩上下文",
        @"\binput token count\b.{0,40}?\bexceeds the maximum number of (?:input )?tokens\b", // Bedrock, Gemini
        @"\binput (?:is )?too long for (?:the |this )?model\b",
        @"\btokens? in request more than max tokens? allowed\b",                          // Z.AI 1210
        @"\btotal tokens?\b.*\bexceeds? (?:the )?(?:model(?:'s)? )?(?:max|maximum|limit)",    // Cohere
        @"\b(?:request|prompt) \(\d[\d,]*\s*tokens?\) exceeds (?:the )?available context size\b"); // llama.cpp

    /// <summary>Raw HTTP 402 markers. A message carrying one is classified by the 402 rules (item 40); they also count as hard billing markers.</summary>
    public static readonly PatternTable PaymentRequiredMarkers = Message(nameof(PaymentRequiredMarkers),
        @"[""']?\b(?:status|code)[""']?\s*[:=]\s*402\b",
        @"\bhttp\s*402\b",
        @"\berror(?:\s+code)?\s*[:=]?\s*402\b",
        @"\b(?:got|returned|received)\s+(?:a\s+)?402\b",
        @"^\s*402\b(?!\s*(?:tokens?|chars?|characters?|requests?|ms|seconds?)\b)");

    /// <summary>402 text naming a rolling quota-refresh window → <c>rate_limit</c>.</summary>
    public static readonly PatternTable QuotaRefreshWindow = Message(nameof(QuotaRefreshWindow),
        @"^(?=.*\bsubscription quota limit\b)(?=.*\b(?:automatic quota refresh|rolling time window)\b)");

    /// <summary>Explicit billing signals inside 402 text → <c>billing</c>, checked before rate-limit wording.</summary>
    public static readonly PatternTable PaymentRequiredBilling = Message(nameof(PaymentRequiredBilling),
        @"\binsufficient[_ ](?:credits?|quota|balance)\b",
        @"\bcredit balance\b",
        @"\bplans (?:&|and) billing\b",
        @"\badd more credits\b",
        @"\btop[ -]?up\b",
        @"^(?=.*\b(?:upgrade your plan|upgrade plan|current plan|subscription)\b)(?=.*\blimit)",
        @"\bbilling hard limit\b|\bhard limit reached\b",
        @"^(?=.*\bmaximum allowed\b)(?=.*\blimit)");

    /// <summary>Retryable 402 text ("try again" near a limit, periodic/organization limits) → <c>rate_limit</c>.</summary>
    public static readonly PatternTable Retryable402 = Message(nameof(Retryable402),
        @"^(?=.*\b(?:try again|retry|temporar(?:y|ily)|cooldown)\b)(?=.*\blimit)",
        @"^(?=.*\b(?:daily|weekly|monthly)\b)(?=.*\b(?:usage|spend(?:ing)?) limit)",
        @"^(?=.*\b(?:daily|weekly|monthly)\b)(?=.*\blimit)(?=.*\breset)",
        @"^(?=.*\b(?:organization|workspace)\b)(?=.*\blimit)(?=.*\b(?:spend(?:ing)? limit|billing period|exceeded|reached|exhausted)\b)");

    /// <summary>Safety/content-policy refusals → <c>refusal</c> (not failover).</summary>
    public static readonly PatternTable Refusal = Message(nameof(Refusal),
        @"\bprovider_refusal\b",
        @"\bcontent[_ ]filter(?:ed|ing)?\b",
        @"\bstop_reason[""']?\s*[:=]\s*[""']?refusal\b",
        @"\b(?:responsibleaipolicyviolation|content_policy_violation)\b");

    /// <summary>OpenRouter per-key budget exhausted → <c>billing</c> (provider-scoped).</summary>
    public static readonly PatternTable OpenRouterKeyLimit = Scoped(nameof(OpenRouterKeyLimit), "openrouter",
        @"\bkey\s+limit\s*(?:exceeded|reached|hit)\b",
        @"\bapi\s+key\s+budget\s+limit\s*(?:exceeded|reached|hit)\b");

    /// <summary>Daily/weekly/monthly usage limits → <c>billing</c> when billing text is present, else <c>rate_limit</c>; also long-window evidence.</summary>
    public static readonly PatternTable PeriodicUsageLimit = Message(nameof(PeriodicUsageLimit),
        @"\b(?:daily|weekly|monthly)(?:/(?:daily|weekly|monthly))*\s+(?:usage\s+)?limits?(?:\s+(?:exhausted|reached|exceeded))?\b",
        @"每[周月].*使用上限|使用上限.*每[周月]",                       // Z.ai weekly/monthly cap
        @"\byou\s+have\s+hit\s+your\b.*\busage\s+limit\b");             // Codex / ChatGPT plans

    /// <summary>Rate-limit wording (item 43) → <c>rate_limit</c>. A bare "429" is weaker and lives in <see cref="BareRateLimitStatus"/>.</summary>
    public static readonly PatternTable RateLimit = Message(nameof(RateLimit),
        @"\brate[_ -]?limit",
        @"\btoo many (?:concurrent )?requests\b",
        @"\bthrottl(?:ed|ing)",                                          // Bedrock ThrottlingException, "throttled"
        @"\bmodel_cooldown\b",
        @"\bexceeded your current quota\b",
        @"\bresource has been exhausted\b",
        @"\bquota[_ ]exceeded\b",
        @"\bresource[_ ]exhausted\b",                                    // Gemini RESOURCE_EXHAUSTED
        @"\busage limit\b",
        @"\btokens per day\b",
        @"\brequests per (?:minute|hour|day)\b",
        @"请求过于频繁|请求频率|调用频率|频率限制|限流|速率限制",
        @"(?:配额|额度)(?:不足|已用尽|用尽)");

    /// <summary>"Model at capacity" wording → <c>overloaded</c>, with its own user-facing copy.</summary>
    public static readonly PatternTable ModelAtCapacity = Message(nameof(ModelAtCapacity),
        @"\b(?:selected\s+)?model\s+(?:is\s+)?(?:currently\s+)?at capacity\b");

    /// <summary>Overload wording (item 43) → <c>overloaded</c>. "Service unavailable" alone is not overload (#32828).</summary>
    public static readonly PatternTable Overloaded = Message(nameof(Overloaded),
        @"overloaded",                                                   // overloaded_error, server_is_overloaded, "temporarily overloaded"
        @"^(?=.*\bservice[_ ]unavailable\b)(?=.*(?:overload|capacity|high[_ ]demand))",
        @"\bhigh demand\b",
        @"\bhigh load\b",
        @"\b(?:at|over|insufficient|out of|no available) capacity\b|\bcapacity (?:exceeded|reached|constraints?)\b",
        @"服务过载|负载过高",
        @"\bmodel\b[\s\w.:/-]{0,80}?\s(?:is\s+)?not\s+(?:loaded|ready|running)\b", // local runtimes still loading
        @"\bno\s+model\s+(?:loaded|available|running)\b",
        @"模型(?:未加载|加载中|未就绪|不可用)");

    /// <summary>
    /// A bare "429" → <c>rate_limit</c>, checked after <see cref="Overloaded"/> so "429 … temporarily overloaded"
    /// stays an overload (PR #97009).
    /// </summary>
    public static readonly PatternTable BareRateLimitStatus = Message(nameof(BareRateLimitStatus),
        @"\b429\b");

    /// <summary>Structured server errors and a provider-completed <c>finish_reason: error</c> → <c>server_error</c>.</summary>
    public static readonly PatternTable StructuredServerError = Message(nameof(StructuredServerError),
        @"[""'](?:type|code)[""']\s*:\s*[""'](?:server_error|upstream_error)[""']",
        @"\bfinish_reason[""']?\s*[:=]\s*[""']?error\b");

    /// <summary>A message led by a transient HTTP status (499, 500, 502–504, 521–524) → <c>timeout</c>.</summary>
    public static readonly PatternTable TransientLeadingHttpCode = Message(nameof(TransientLeadingHttpCode),
        @"^\s*(?:error:?\s*)?(?:http\s*)?(?:499|50[0234]|52[1-4])\b(?![.,]\d)(?!\s*(?:tokens?|chars?|characters?|requests?|ms|seconds?|s|%)\b)");

    /// <summary>A message led by HTTP 529 → <c>overloaded</c>.</summary>
    public static readonly PatternTable OverloadedLeadingHttpCode = Message(nameof(OverloadedLeadingHttpCode),
        @"^\s*(?:error:?\s*)?(?:http\s*)?529\b(?![.,]\d)(?!\s*(?:tokens?|chars?|characters?|requests?|ms|seconds?|s|%)\b)");

    /// <summary>
    /// Expired (OAuth) token wording → <c>auth</c>, checked before billing so a token expiry never lands in the
    /// hours-long billing lane (#18624).
    /// </summary>
    public static readonly PatternTable AuthExpiry = Message(nameof(AuthExpiry),
        @"\b(?:access |oauth |bearer |id |auth )?token (?:has |is )?expired\b",
        @"\bexpired (?:access |oauth |bearer |auth )?token\b",
        @"\boauth\b.{0,80}?\bexpir");

    /// <summary>Hard billing markers that count even in messages over 512 characters: provider billing codes (item 44).</summary>
    public static readonly PatternTable ProviderBillingCodes = Message(nameof(ProviderBillingCodes),
        @"[""']?\bcode[""']?\s*[:=]\s*[""']?1311\b",                   // Z.ai: model not in the current plan
        @"\binvalidsubscription\b");                                     // Volcengine Ark coding plan missing/expired

    /// <summary>Billing wording (item 44) → <c>billing</c>; only consulted for messages up to 512 characters.</summary>
    public static readonly PatternTable Billing = Message(nameof(Billing),
        @"\bpayment required\b",
        @"\binsufficient credits?\b",
        @"\bused\s+all\s+available\s+credits\b",
        @"\bspend(?:ing)?\s+limit\b",
        @"\binsufficient[_ ]quota\b",
        @"\bcredit balance\b",
        @"\bplans (?:&|and) billing\b",
        @"\binsufficient[_ ]balance\b",
        @"\binsufficient\s+(?:\w+\s+){1,3}balance\b",
        @"\brequires?\s+more\s+credits\b",
        @"\bout of (?:credits|funds)\b",
        @"\b(?:subscription|plan) (?:has )?expired\b",
        @"\bout of extra usage\b|\bdraw from your extra usage\b|\bextra usage is required\b",
        @"余额不足|欠费|请充值",
        @"\bdoes not have a valid coding\s*plan subscription\b",
        @"\bcurrent\s+subscription\s+plan\b.*\b(?:does\s+not|doesn't|not)\b.*\binclude\s+access\b",
        @"\bmodel\b.*\bnot\s+available\b.*\bcurrent\s+plan\b",
        @"^(?:error[:\s-]+)?billing(?:\s+error)?\b(?=.*\b(?:upgrade|credits|payment|purchase|subscription|plan)\b)");

    /// <summary>High-confidence permanent credential failures → <c>auth_permanent</c>.</summary>
    public static readonly PatternTable AuthPermanent = Message(nameof(AuthPermanent),
        @"\bapi[_ ]?key[_ ]?(?:has been |was |is )?(?:revoked|deactivated|deleted)\b",
        @"\bdeactivated[_ ]workspace\b",
        @"\bkey has been (?:disabled|revoked)\b",
        @"\baccount has been (?:deactivated|disabled)\b",
        @"\bnot allowed for this organization\b");

    /// <summary>Credential failures (item 44) → <c>auth</c>.</summary>
    public static readonly PatternTable Auth = Message(nameof(Auth),
        @"invalid[_ ]?api[_ ]?key",
        @"\bcould not (?:authenticate|validate)\b.*(?:api[_ ]?key|credentials)",
        @"\bpermission_error\b",
        @"\bincorrect api key\b",
        @"\binvalid (?:access |bearer |auth )?token\b",
        @"authentication",                                               // authentication_error, "Authentication Fails"
        @"\bre-?authenticate\b",
        @"\boauth token refresh failed\b",
        @"\bunauthori[sz]ed\b",
        @"\bforbidden\b",
        @"\baccess denied\b",
        @"\binsufficient permissions?\b",
        @"\bmissing scopes?:",
        @"expired",
        @"\b401\b",
        @"\b403\b",
        @"\bno credentials found\b|\bno api key found\b",
        @"\bfailed to (?:extract|parse|validate|decode)\b.*\btoken\b",
        @"[""']?\bcode[""']?\s*[:=]\s*[""']?1113\b",                   // Z.ai: wrong endpoint or credentials
        @"无权访问|认证失败|鉴权失败|密钥无效|apikey\s*无效",
        @"\bce-011\b|当前\s*ak.*?(?:违规请求|禁止访问)");

    /// <summary>The generic "An unknown error occurred" that stream runtimes throw on abort/error → <c>timeout</c>.</summary>
    public static readonly PatternTable UnknownStreamError = Message(nameof(UnknownStreamError),
        @"^\s*an unknown error occurred\.?\s*$");

    /// <summary>OpenRouter's "Provider returned error" (an upstream of OpenRouter failed) → <c>timeout</c> (provider-scoped).</summary>
    public static readonly PatternTable OpenRouterProviderError = Scoped(nameof(OpenRouterProviderError), "openrouter",
        @"\bprovider returned error\b");

    /// <summary>Unstructured server-error wording → <c>timeout</c> (item 41).</summary>
    public static readonly PatternTable ServerErrorText = Message(nameof(ServerErrorText),
        @"\ban error occurred while processing\b",
        @"\binternal server error\b",
        @"\binternal_error\b",
        @"\bserver_error\b",
        @"\bservice temporarily unavailable\b|\bservice_unavailable\b",
        @"\bbad gateway\b",
        @"\bgateway timeout\b",
        @"\bupstream (?:connect )?error\b",
        @"\bconnection reset\b",
        @"\bhttp\s+5\d\d\b",
        @"内部错误|服务器错误|系统错误|系统繁忙|系统异常");

    /// <summary>JSON <c>"type":"api_error"</c> bodies whose text signals a transient fault → <c>timeout</c>.</summary>
    public static readonly PatternTable JsonApiInternalError = Message(nameof(JsonApiInternalError),
        @"^(?=.*[""']type[""']\s*:\s*[""']api_error[""'])(?=.*(?:internal server error|overload|temporarily unavailable|service unavailable|unknown error|server error|bad gateway|gateway timeout|upstream error|backend error|try again later|temporarily.+unable|unexpected error))");

    /// <summary>Request-shape rejections (Cloud Code Assist and friends) → <c>format</c>.</summary>
    public static readonly PatternTable Format = Message(nameof(Format),
        @"\bstring should match pattern\b",
        @"\btool_use\.id\b|\btool_use_id\b",
        @"\binvalid request format\b",
        @"\btool call id was\b.*\bmust be\b",
        @"\bdoes not support assistant message prefill\b",
        @"\bconversation must end with a user message\b",
        @"\broles must alternate\b|\bincorrect role information\b");

    /// <summary>The exact "no error details" sentinel → <c>no_error_details</c>.</summary>
    public static readonly PatternTable NoErrorDetails = Message(nameof(NoErrorDetails),
        @"^\s*unknown error \(no error details in response\)\s*$");

    /// <summary>Timeout and transport wording (item 45) → <c>timeout</c>.</summary>
    public static readonly PatternTable Timeout = Message(nameof(Timeout),
        @"timeout",
        @"\btimed out\b",
        @"\bservice unavailable\b",
        @"\bdeadline exceeded\b",
        @"^(?=.*\bgot status:\s*internal\b)(?=.*\bcode[""']?\s*[:=]\s*500\b)",
        @"^(?=.*[""']status[""']\s*:\s*[""']internal[""'])(?=.*[""']code[""']\s*:\s*500\b)",
        @"\bconnection error\b|\bnetwork error\b|\bnetwork request failed\b|\bfetch failed\b|\bsocket hang up\b",
        @"\bconnection (?:refused|aborted|closed)\b",
        @"\b(?:network|host) is unreachable\b",
        @"\bno such host\b|\bgetaddrinfo\b|\bname or service not known\b",
        @"\bresponse ended prematurely\b",                               // .NET HttpIOException
        @"网络错误|网络异常|服务暂时不可用|服务繁忙|请求超时|连接超时|连接错误",
        @"\beconn(?:refused|reset|aborted)\b",
        @"\be(?:net|host)(?:unreach|down|reset)\b",
        @"\be(?:socket)?timedout\b",
        @"\bepipe\b",
        @"\benotfound\b|\beai_again\b",
        @"\bwithout sending (?:any )?chunks?\b",
        @"\b(?:unhandled )?stop reason:\s*(?:abort|error|malformed_response|network_error)\b",
        @"\breason:\s*(?:abort|error|malformed_response|network_error)\b",
        @"\bfinish_reason:\s*(?:abort|malformed_response|network_error)\b", // finish_reason: error is a server_error
        @"\boperation was aborted\b",
        @"\bstream (?:was )?(?:closed|aborted)\b",
        @"^\s*terminated\s*$",
        @"^\s*stream_read_error\s*$",
        @"\bund_err_(?:socket|connect|headers?|body|req_content_length_mismatch|aborted|closed)\b",
        @"^\s*request failed\s*$",
        @"\brequest failed after repeated internal retries\b");

    /// <summary>Provider-specific rate-limit wording, checked last (item 41's final step).</summary>
    public static readonly PatternTable ProviderRateLimit = Message(nameof(ProviderRateLimit),
        @"\bconcurrency limit(?: has been)? reached\b",
        @"\bworkers_ai\b.*\bquota limit exceeded\b");                  // Cloudflare Workers AI

    /// <summary>Provider-specific overload wording, checked last.</summary>
    public static readonly PatternTable ProviderOverloaded = Message(nameof(ProviderOverloaded),
        @"\bmodelnotreadyexception\b");                                  // Bedrock

    // ───────────────────────── message tables used outside the reason walk ─────────────────────────

    /// <summary>A 400/422 body that is only an HTTP "no body" wrapper → <c>no_error_details</c> rather than <c>format</c>.</summary>
    public static readonly PatternTable NoBody = Message(nameof(NoBody),
        @"^\s*(?:error:?\s*)?(?:(?:http\s*)?\d{3}\s*)?(?:no body(?: response)?|no response body|status code \(no body\))\s*$");

    /// <summary>
    /// Long-window evidence beyond <see cref="PeriodicUsageLimit"/>: per-day/week/month quotas. Such rate limits
    /// are not retried on the same model (item 70).
    /// </summary>
    public static readonly PatternTable LongWindowLimit = Message(nameof(LongWindowLimit),
        @"per[_ -]?(?:day|week|month)",                                  // "tokens per day", Gemini "...PerDayPerProject..."
        @"\b(?:tpd|rpd)\b",
        @"\b(?:daily|weekly|monthly)\s+(?:quota|allowance|cap)\b",
        @"\bresets? (?:tomorrow|at midnight|next (?:day|week|month))\b",
        @"(?:每日|每天|每周|每月).*?(?:上限|限额|额度)");

    /// <summary>Details that make a provider's rate-limit text worth showing verbatim (a reset time, plan or quota; item 48).</summary>
    public static readonly PatternTable RateLimitCopyDetail = Message(nameof(RateLimitCopyDetail),
        @"\bmin(?:ute)?s?\b|\bhours?\b|\bseconds?\b|\btry again in\b|\breset\b|\bplan\b|\bquota\b");

    // ───────────────────────── structured error codes (item 42) ─────────────────────────

    /// <summary>Codes → <c>auth_permanent</c>; decisive even over the HTTP status.</summary>
    public static readonly PatternTable AuthPermanentCodes = Code(nameof(AuthPermanentCodes),
        @"^deactivated_workspace$");

    /// <summary>Codes → <c>refusal</c>; decisive even over the HTTP status.</summary>
    public static readonly PatternTable RefusalCodes = Code(nameof(RefusalCodes),
        @"^(?:provider_refusal|content_policy_violation|content_filter)$");

    /// <summary>Codes → <c>rate_limit</c>.</summary>
    public static readonly PatternTable RateLimitCodes = Code(nameof(RateLimitCodes),
        @"^resource_exhausted$",
        @"^rate_limit(?:ed|_exceeded)?$",
        @"^too_many_requests$",
        @"^throttl(?:ed|ing|ingexception|ing_exception)$");

    /// <summary>Codes → <c>overloaded</c>.</summary>
    public static readonly PatternTable OverloadedCodes = Code(nameof(OverloadedCodes),
        @"^(?:server_is_)?overloaded(?:_error)?$");

    /// <summary>Errno and gRPC codes → <c>timeout</c>.</summary>
    public static readonly PatternTable TimeoutCodes = Code(nameof(TimeoutCodes),
        @"^(?:etimedout|esockettimedout|econnreset|econnaborted|econnrefused|enetunreach|ehostunreach|ehostdown|enetreset|epipe|eai_again|enotfound)$",
        @"^(?:unavailable|deadline_exceeded)$");

    /// <summary>Codes → <c>billing</c>: Z.ai 1311, Volcengine InvalidSubscription, OpenAI's billing hard limit.</summary>
    public static readonly PatternTable BillingCodes = Code(nameof(BillingCodes),
        @"^1311$",
        @"^invalidsubscription$",
        @"^billing_hard_limit_reached$");

    /// <summary>Codes → <c>auth</c>: Z.ai 1113, OpenAI invalid_api_key, Google RPC statuses.</summary>
    public static readonly PatternTable AuthCodes = Code(nameof(AuthCodes),
        @"^1113$",
        @"^invalid_api_key$",
        @"^(?:unauthenticated|permission_denied)$");

    /// <summary>Codes → <c>context_overflow</c>.</summary>
    public static readonly PatternTable ContextOverflowCodes = Code(nameof(ContextOverflowCodes),
        @"^(?:context_length_exceeded|request_too_large)$");

    /// <summary>Codes → <c>model_not_found</c>.</summary>
    public static readonly PatternTable ModelNotFoundCodes = Code(nameof(ModelNotFoundCodes),
        @"^model_not_found$");

    // ───────────────────────── structured error types ─────────────────────────

    /// <summary>Types → <c>server_error</c> (Anthropic's <c>api_error</c> is its internal-error type).</summary>
    public static readonly PatternTable ServerErrorTypes = Type(nameof(ServerErrorTypes),
        @"^(?:server_error|upstream_error|api_error)$");

    /// <summary>Types → <c>overloaded</c>.</summary>
    public static readonly PatternTable OverloadedTypes = Type(nameof(OverloadedTypes),
        @"^overloaded_error$");

    /// <summary>Types → <c>rate_limit</c>.</summary>
    public static readonly PatternTable RateLimitTypes = Type(nameof(RateLimitTypes),
        @"^rate_limit_error$");

    /// <summary>Types → <c>auth</c>.</summary>
    public static readonly PatternTable AuthTypes = Type(nameof(AuthTypes),
        @"^(?:authentication_error|permission_error)$");

    /// <summary>Types → <c>billing</c>.</summary>
    public static readonly PatternTable BillingTypes = Type(nameof(BillingTypes),
        @"^billing_error$");

    /// <summary>Types → <c>context_overflow</c> (Anthropic's 413 type).</summary>
    public static readonly PatternTable ContextOverflowTypes = Type(nameof(ContextOverflowTypes),
        @"^request_too_large$");

    /// <summary>Types → <c>model_not_found</c>.</summary>
    public static readonly PatternTable ModelNotFoundTypes = Type(nameof(ModelNotFoundTypes),
        @"^not_found_error$");

    // ───────────────────────── rule lists and the catalogue ─────────────────────────

    /// <summary>Structured code rules, first match wins.</summary>
    public static IReadOnlyList<PatternRule> CodeRules { get; } =
    [
        new(AuthPermanentCodes, FailoverReason.AuthPermanent),
        new(RefusalCodes, FailoverReason.Refusal),
        new(RateLimitCodes, FailoverReason.RateLimit),
        new(OverloadedCodes, FailoverReason.Overloaded),
        new(TimeoutCodes, FailoverReason.Timeout),
        new(BillingCodes, FailoverReason.Billing),
        new(AuthCodes, FailoverReason.Auth),
        new(ContextOverflowCodes, FailoverReason.ContextOverflow),
        new(ModelNotFoundCodes, FailoverReason.ModelNotFound),
    ];

    /// <summary>Structured type rules, first match wins.</summary>
    public static IReadOnlyList<PatternRule> ErrorTypeRules { get; } =
    [
        new(ServerErrorTypes, FailoverReason.ServerError),
        new(OverloadedTypes, FailoverReason.Overloaded),
        new(RateLimitTypes, FailoverReason.RateLimit),
        new(AuthTypes, FailoverReason.Auth),
        new(BillingTypes, FailoverReason.Billing),
        new(ContextOverflowTypes, FailoverReason.ContextOverflow),
        new(ModelNotFoundTypes, FailoverReason.ModelNotFound),
    ];

    /// <summary>Every table, for inspection and the coverage meta-test.</summary>
    public static IReadOnlyList<PatternTable> All { get; } =
    [
        ImageRejection, SessionExpired, ModelNotFound, TokensPerMinute, ContextOverflow,
        PaymentRequiredMarkers, QuotaRefreshWindow, PaymentRequiredBilling, Retryable402,
        Refusal, OpenRouterKeyLimit, PeriodicUsageLimit, RateLimit, ModelAtCapacity, Overloaded,
        BareRateLimitStatus, StructuredServerError, TransientLeadingHttpCode, OverloadedLeadingHttpCode,
        AuthExpiry, ProviderBillingCodes, Billing, AuthPermanent, Auth, UnknownStreamError,
        OpenRouterProviderError, ServerErrorText, JsonApiInternalError, Format, NoErrorDetails, Timeout,
        ProviderRateLimit, ProviderOverloaded, NoBody, LongWindowLimit, RateLimitCopyDetail,
        AuthPermanentCodes, RefusalCodes, RateLimitCodes, OverloadedCodes, TimeoutCodes, BillingCodes,
        AuthCodes, ContextOverflowCodes, ModelNotFoundCodes,
        ServerErrorTypes, OverloadedTypes, RateLimitTypes, AuthTypes, BillingTypes, ContextOverflowTypes,
        ModelNotFoundTypes,
    ];

    private static PatternTable Message(string name, params string[] patterns) =>
        new(name, PatternSubject.Message, providerScope: null, patterns);

    private static PatternTable Scoped(string name, string providerScope, params string[] patterns) =>
        new(name, PatternSubject.Message, providerScope, patterns);

    private static PatternTable Code(string name, params string[] patterns) =>
        new(name, PatternSubject.ErrorCode, providerScope: null, patterns);

    private static PatternTable Type(string name, params string[] patterns) =>
        new(name, PatternSubject.ErrorType, providerScope: null, patterns);
}

/// <summary>A table paired with the reason its match means; used where the mapping is a plain first-match list.</summary>
/// <param name="Table">The patterns.</param>
/// <param name="Reason">The reason a match yields.</param>
internal sealed record PatternRule(PatternTable Table, FailoverReason Reason);
