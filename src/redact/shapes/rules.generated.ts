// Generated from rules.yaml by scripts/gen-shape-rules.mjs. Do not edit: edit rules.yaml and run `npm run build`.
import type { ShapeRule } from './rule.js';

export const BUILTIN_RULES: readonly ShapeRule[] = [
  {
    "id": "aws-access-token",
    "description": "an AWS access key id",
    "keywords": [
      "AKIA",
      "ASIA",
      "ABIA",
      "ACCA",
      "A3TA",
      "A3TB",
      "A3TC",
      "A3TD",
      "A3TE",
      "A3TF",
      "A3TG",
      "A3TH",
      "A3TI",
      "A3TJ",
      "A3TK",
      "A3TL",
      "A3TM",
      "A3TN",
      "A3TO",
      "A3TP",
      "A3TQ",
      "A3TR",
      "A3TS",
      "A3TT",
      "A3TU",
      "A3TV",
      "A3TW",
      "A3TX",
      "A3TY",
      "A3TZ",
      "A3T0",
      "A3T1",
      "A3T2",
      "A3T3",
      "A3T4",
      "A3T5",
      "A3T6",
      "A3T7",
      "A3T8",
      "A3T9"
    ],
    "pattern": "\\b(?<secret>(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})\\b",
    "entropy": 3
  },
  {
    "id": "aws-secret-access-key",
    "description": "an AWS secret access key",
    "keywords": [
      "aws_secret",
      "aws-secret",
      "awssecret",
      "aws.secret",
      "aws_sk",
      "secret_access_key",
      "secretaccesskey",
      "secret-access-key"
    ],
    "ignoreCase": true,
    "anchor": "word",
    "before": 60,
    "pattern": "(?<![\\w.-])[\\w.-]{0,30}?(?:aws[\\w.-]{0,30}?(?:secret|sk)|secret[_.-]?access[_.-]?key)[\\w.-]{0,20}?['\"`]?[ \\t]{0,20}(?:=>|:=|=|:|,)[ \\t]{0,20}['\"`]?(?<secret>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])",
    "entropy": 4
  },
  {
    "id": "aws-amazon-bedrock-api-key-long-lived",
    "keywords": [
      "ABSKQmVkcm9ja0FQSUtleS"
    ],
    "after": 200,
    "pattern": "\\b(?<secret>ABSKQmVkcm9ja0FQSUtleS[A-Za-z0-9+/]{100,120}={0,2})(?![A-Za-z0-9+/=])"
  },
  {
    "id": "aws-amazon-bedrock-api-key-short-lived",
    "keywords": [
      "bedrock-api-key-"
    ],
    "after": 2000,
    "pattern": "\\b(?<secret>bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t[A-Za-z0-9+/=%_-]*)"
  },
  {
    "id": "gcp-api-key",
    "description": "a Google API key",
    "keywords": [
      "AIza"
    ],
    "pattern": "\\b(?<secret>AIza[\\w-]{35})(?![\\w-])",
    "entropy": 4,
    "exclude": [
      "abcdefgh",
      "12345678"
    ]
  },
  {
    "id": "gcp-oauth-client-secret",
    "description": "a Google OAuth client secret",
    "keywords": [
      "GOCSPX-"
    ],
    "pattern": "\\b(?<secret>GOCSPX-[\\w-]{28})(?![\\w-])"
  },
  {
    "id": "azure-ad-client-secret",
    "description": "an Azure AD client secret",
    "keywords": [
      "Q~"
    ],
    "before": 8,
    "after": 40,
    "pattern": "(?:^|[\\\\'\"`\\s>=:(,)])(?<secret>[a-zA-Z0-9_~.]{3}\\dQ~[a-zA-Z0-9_~.-]{31,34})(?:$|[\\\\'\"`\\s<),])",
    "entropy": 3
  },
  {
    "id": "cloudflare-origin-ca-key",
    "keywords": [
      "v1.0-"
    ],
    "after": 200,
    "pattern": "\\b(?<secret>v1\\.0-[a-f0-9]{24}-[a-f0-9]{146})\\b"
  },
  {
    "id": "cloudflare-global-api-key",
    "keywords": [
      "cloudflare"
    ],
    "ignoreCase": true,
    "before": 1,
    "pattern": "cloudflare[\\w.-]{0,30}?['\"`]?\\s{0,5}(?:=>|:=|=|:)\\s{0,5}['\"`]?(?<secret>[a-f0-9]{37})\\b",
    "entropy": 3
  },
  {
    "id": "cloudflare-api-key",
    "keywords": [
      "cloudflare"
    ],
    "ignoreCase": true,
    "before": 1,
    "pattern": "cloudflare[\\w.-]{0,30}?['\"`]?\\s{0,5}(?:=>|:=|=|:)\\s{0,5}['\"`]?(?<secret>[\\w-]{40})(?![\\w-])",
    "entropy": 3.5
  },
  {
    "id": "digitalocean-access-token",
    "keywords": [
      "dop_v1_",
      "doo_v1_",
      "dor_v1_"
    ],
    "pattern": "\\b(?<secret>do[opr]_v1_[a-f0-9]{64})\\b"
  },
  {
    "id": "heroku-api-key-v2",
    "keywords": [
      "HRKU-"
    ],
    "pattern": "\\b(?<secret>HRKU-AA[0-9a-zA-Z_-]{58})"
  },
  {
    "id": "heroku-api-key",
    "keywords": [
      "heroku"
    ],
    "ignoreCase": true,
    "before": 1,
    "pattern": "heroku[\\w.-]{0,30}?['\"`]?\\s{0,5}(?:=>|:=|=|:)\\s{0,5}['\"`]?(?<secret>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\\b"
  },
  {
    "id": "flyio-access-token",
    "keywords": [
      "fo1_",
      "fm1a_",
      "fm1r_",
      "fm2_"
    ],
    "after": 2000,
    "pattern": "\\b(?<secret>fo1_[\\w-]{43}|fm[12][ar]?_[A-Za-z0-9+/]{100,}={0,3})"
  },
  {
    "id": "scalingo-api-token",
    "keywords": [
      "tk-us-"
    ],
    "pattern": "\\b(?<secret>tk-us-[\\w-]{48})"
  },
  {
    "id": "vault-service-token",
    "description": "a HashiCorp Vault token",
    "keywords": [
      "hvs.",
      "hvb."
    ],
    "pattern": "\\b(?<secret>hv[sb]\\.[\\w-]{90,200})"
  },
  {
    "id": "hashicorp-tf-api-token",
    "keywords": [
      ".atlasv1."
    ],
    "before": 20,
    "pattern": "\\b(?<secret>[a-z0-9]{14}\\.atlasv1\\.[a-z0-9_=-]{60,70})",
    "entropy": 3.5
  },
  {
    "id": "doppler-api-token",
    "keywords": [
      "dp.pt.",
      "dp.st.",
      "dp.sa.",
      "dp.ct.",
      "dp.scim."
    ],
    "pattern": "\\b(?<secret>dp\\.(?:pt|st|sa|ct|scim)\\.[a-zA-Z0-9]{40,44})\\b"
  },
  {
    "id": "pulumi-api-token",
    "keywords": [
      "pul-"
    ],
    "pattern": "\\b(?<secret>pul-[a-f0-9]{40})\\b"
  },
  {
    "id": "databricks-api-token",
    "keywords": [
      "dapi"
    ],
    "pattern": "\\b(?<secret>dapi[a-f0-9]{32}(?:-\\d)?)\\b",
    "entropy": 3
  },
  {
    "id": "github-pat",
    "description": "a GitHub token (personal access token)",
    "keywords": [
      "ghp_"
    ],
    "pattern": "\\b(?<secret>ghp_[0-9a-zA-Z]{36,255})\\b",
    "entropy": 3
  },
  {
    "id": "github-oauth",
    "description": "a GitHub token (OAuth)",
    "keywords": [
      "gho_"
    ],
    "pattern": "\\b(?<secret>gho_[0-9a-zA-Z]{36,255})\\b",
    "entropy": 3
  },
  {
    "id": "github-app-token",
    "description": "a GitHub token (app installation or user-to-server)",
    "keywords": [
      "ghu_",
      "ghs_"
    ],
    "pattern": "\\b(?<secret>gh[us]_[0-9a-zA-Z]{36,255})\\b",
    "entropy": 3
  },
  {
    "id": "github-refresh-token",
    "description": "a GitHub token (refresh)",
    "keywords": [
      "ghr_"
    ],
    "pattern": "\\b(?<secret>ghr_[0-9a-zA-Z]{36,76})\\b",
    "entropy": 3
  },
  {
    "id": "github-fine-grained-pat",
    "description": "a GitHub token (fine-grained personal access token)",
    "keywords": [
      "github_pat_"
    ],
    "pattern": "\\b(?<secret>github_pat_[0-9a-zA-Z_]{22,255})\\b",
    "entropy": 3
  },
  {
    "id": "gitlab-pat",
    "description": "a GitLab personal access token",
    "keywords": [
      "glpat-"
    ],
    "pattern": "\\b(?<secret>glpat-[\\w-]{20,300}(?:\\.[0-9a-z]{2}[0-9a-z]{7})?)(?![\\w-])",
    "entropy": 3
  },
  {
    "id": "gitlab-ptt",
    "description": "a GitLab pipeline trigger token",
    "keywords": [
      "glptt-"
    ],
    "pattern": "\\b(?<secret>glptt-[0-9a-f]{40})\\b",
    "entropy": 3
  },
  {
    "id": "gitlab-rrt",
    "description": "a GitLab runner registration token",
    "keywords": [
      "GR1348941"
    ],
    "pattern": "\\b(?<secret>GR1348941[\\w-]{20})(?![\\w-])",
    "entropy": 3
  },
  {
    "id": "gitlab-token",
    "description": "other GitLab tokens (runner, deploy, feed, OAuth app, CI job, incoming mail, agent, SCIM, feature flags)",
    "keywords": [
      "glrt-",
      "gldt-",
      "glft-",
      "gloas-",
      "glcbt-",
      "glimt-",
      "glagent-",
      "glsoat-",
      "glffct-",
      "glso-"
    ],
    "pattern": "\\b(?<secret>gl(?:rt|dt|ft|oas|cbt|imt|agent|soat|ffct|so)-[\\w-]{20,100})(?![\\w-])",
    "entropy": 3
  },
  {
    "id": "npm-access-token",
    "description": "an npm token",
    "keywords": [
      "npm_"
    ],
    "pattern": "\\b(?<secret>npm_[a-zA-Z0-9]{36})\\b",
    "entropy": 3
  },
  {
    "id": "pypi-upload-token",
    "description": "a PyPI upload token",
    "keywords": [
      "pypi-AgEIcHlwaS5vcmc"
    ],
    "after": 400,
    "pattern": "\\b(?<secret>pypi-AgEIcHlwaS5vcmc[\\w-]{50,})"
  },
  {
    "id": "rubygems-api-token",
    "keywords": [
      "rubygems_"
    ],
    "pattern": "\\b(?<secret>rubygems_[a-f0-9]{48})\\b"
  },
  {
    "id": "sourcegraph-access-token",
    "keywords": [
      "sgp_"
    ],
    "pattern": "\\b(?<secret>sgp_(?:[a-fA-F0-9]{16}|local)_[a-fA-F0-9]{40}|sgp_[a-fA-F0-9]{40})\\b",
    "entropy": 3.5
  },
  {
    "id": "atlassian-api-token",
    "keywords": [
      "ATATT3"
    ],
    "after": 300,
    "pattern": "\\b(?<secret>ATATT3[A-Za-z0-9_=-]{186})"
  },
  {
    "id": "octopus-deploy-api-key",
    "keywords": [
      "API-"
    ],
    "pattern": "\\b(?<secret>API-[A-Z0-9]{26})\\b",
    "entropy": 3
  },
  {
    "id": "sonar-api-token",
    "keywords": [
      "sonar"
    ],
    "ignoreCase": true,
    "before": 1,
    "pattern": "sonar[\\w.-]{0,20}?(?:token|login|key)[\\w.-]{0,10}?['\"`]?\\s{0,5}(?:=>|:{1,3}=|\\?=|=|:)\\s{0,5}['\"`]?(?<secret>(?:sq[uap]_)?[a-z0-9=_-]{40})(?![\\w=-])",
    "entropy": 3
  },
  {
    "id": "snyk-api-token",
    "keywords": [
      "snyk"
    ],
    "ignoreCase": true,
    "before": 1,
    "pattern": "snyk[\\w.-]{0,20}?(?:token|key|api)[\\w.-]{0,10}?['\"`]?\\s{0,5}(?:=>|:{1,3}=|\\?=|=|:)\\s{0,5}['\"`]?(?<secret>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\\b"
  },
  {
    "id": "stripe-access-token",
    "description": "a Stripe secret or restricted key",
    "keywords": [
      "sk_live_",
      "sk_test_",
      "sk_prod_",
      "rk_live_",
      "rk_test_",
      "rk_prod_"
    ],
    "pattern": "\\b(?<secret>[rs]k_(?:live|test|prod)_[a-zA-Z0-9]{10,247})\\b",
    "entropy": 2
  },
  {
    "id": "stripe-webhook-secret",
    "description": "a Stripe webhook signing secret",
    "keywords": [
      "whsec_"
    ],
    "pattern": "\\b(?<secret>whsec_[a-zA-Z0-9]{32,})\\b",
    "entropy": 3
  },
  {
    "id": "square-access-token",
    "keywords": [
      "sq0atp-",
      "sq0csp-",
      "EAAA"
    ],
    "pattern": "\\b(?<secret>(?:sq0atp-|sq0csp-|EAAA)[\\w-]{22,60})(?![\\w-])",
    "entropy": 3
  },
  {
    "id": "shopify-access-token",
    "description": "a Shopify access token",
    "keywords": [
      "shpat_"
    ],
    "pattern": "\\b(?<secret>shpat_[a-fA-F0-9]{32})\\b"
  },
  {
    "id": "shopify-custom-access-token",
    "keywords": [
      "shpca_"
    ],
    "pattern": "\\b(?<secret>shpca_[a-fA-F0-9]{32})\\b"
  },
  {
    "id": "shopify-private-app-access-token",
    "keywords": [
      "shppa_"
    ],
    "pattern": "\\b(?<secret>shppa_[a-fA-F0-9]{32})\\b"
  },
  {
    "id": "shopify-shared-secret",
    "keywords": [
      "shpss_"
    ],
    "pattern": "\\b(?<secret>shpss_[a-fA-F0-9]{32})\\b"
  },
  {
    "id": "twilio-api-key",
    "description": "a Twilio API key",
    "keywords": [
      "SK"
    ],
    "pattern": "\\b(?<secret>SK[0-9a-fA-F]{32})\\b",
    "entropy": 3
  },
  {
    "id": "twilio-account-sid",
    "keywords": [
      "AC"
    ],
    "pattern": "\\b(?<secret>AC[0-9a-f]{32})\\b",
    "entropy": 3
  },
  {
    "id": "sendgrid-api-token",
    "description": "a SendGrid API key",
    "keywords": [
      "SG."
    ],
    "pattern": "\\b(?<secret>SG\\.[\\w-]{22}\\.[\\w-]{43})(?![\\w-])"
  },
  {
    "id": "mailchimp-api-key",
    "keywords": [
      "-us"
    ],
    "before": 40,
    "pattern": "\\b(?<secret>[a-f0-9]{32}-us\\d{1,2})\\b",
    "entropy": 3
  },
  {
    "id": "mailgun-private-api-token",
    "keywords": [
      "mailgun"
    ],
    "ignoreCase": true,
    "pattern": "mailgun[\\w.-]{0,30}?['\"`]?\\s{0,5}(?:=>|:=|=|:)\\s{0,5}['\"`]?(?<secret>key-[a-f0-9]{32})\\b"
  },
  {
    "id": "slack-bot-token",
    "description": "a Slack bot token",
    "keywords": [
      "xoxb-"
    ],
    "pattern": "\\b(?<secret>xoxb-[0-9]{10,13}-[0-9]{10,13}[a-zA-Z0-9-]*)"
  },
  {
    "id": "slack-legacy-bot-token",
    "keywords": [
      "xoxb-"
    ],
    "pattern": "\\b(?<secret>xoxb-[0-9]{8,14}-[a-zA-Z0-9]{18,26})\\b",
    "entropy": 3
  },
  {
    "id": "slack-user-token",
    "description": "a Slack user token",
    "keywords": [
      "xoxp-",
      "xoxe-"
    ],
    "pattern": "\\b(?<secret>xox[pe](?:-[0-9]{10,13}){3}-[a-zA-Z0-9-]{28,34})"
  },
  {
    "id": "slack-app-token",
    "description": "a Slack app token",
    "keywords": [
      "xapp-"
    ],
    "ignoreCase": true,
    "pattern": "\\b(?<secret>xapp-\\d-[A-Z0-9]+-\\d+-[a-z0-9]+)"
  },
  {
    "id": "slack-config-access-token",
    "keywords": [
      "xoxe.xox"
    ],
    "ignoreCase": true,
    "pattern": "\\b(?<secret>xoxe\\.xox[bp]-\\d-[A-Z0-9]{163,166})\\b"
  },
  {
    "id": "slack-config-refresh-token",
    "keywords": [
      "xoxe-"
    ],
    "ignoreCase": true,
    "pattern": "\\b(?<secret>xoxe-\\d-[A-Z0-9]{146})\\b"
  },
  {
    "id": "slack-legacy-token",
    "keywords": [
      "xoxo-",
      "xoxs-"
    ],
    "pattern": "\\b(?<secret>xox[os]-\\d+-\\d+-\\d+-[a-fA-F\\d]+)"
  },
  {
    "id": "slack-legacy-workspace-token",
    "keywords": [
      "xoxa-",
      "xoxr-"
    ],
    "pattern": "\\b(?<secret>xox[ar]-(?:\\d-)?[0-9a-zA-Z]{8,48}(?:-[0-9a-zA-Z]{1,48})*)",
    "entropy": 2.5
  },
  {
    "id": "slack-webhook-url",
    "description": "a Slack webhook URL",
    "keywords": [
      "hooks.slack.com/"
    ],
    "before": 10,
    "pattern": "(?:https?://)?hooks\\.slack\\.com/(?:services|workflows|triggers)/(?<secret>[A-Za-z0-9+/]{40,120})"
  },
  {
    "id": "discord-webhook-url",
    "keywords": [
      "discord.com/api/webhooks/",
      "discordapp.com/api/webhooks/"
    ],
    "pattern": "(?:discord|discordapp)\\.com/api/webhooks/\\d+/(?<secret>[\\w-]{60,})"
  },
  {
    "id": "telegram-bot-api-token",
    "keywords": [
      ":AA"
    ],
    "before": 12,
    "pattern": "\\b(?<secret>\\d{8,10}:AA[\\w-]{33})(?![\\w-])"
  },
  {
    "id": "openai-api-key",
    "description": "an OpenAI API key",
    "keywords": [
      "T3BlbkFJ",
      "sk-proj-",
      "sk-svcacct-",
      "sk-admin-"
    ],
    "before": 220,
    "after": 220,
    "pattern": "\\b(?<secret>sk-(?:(?:proj|svcacct|admin)-)?[A-Za-z0-9_-]{20,200}T3BlbkFJ[A-Za-z0-9_-]{20,200}|sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,200})(?![\\w-])",
    "entropy": 4
  },
  {
    "id": "anthropic-api-key",
    "description": "an Anthropic API key",
    "keywords": [
      "sk-ant-api03-"
    ],
    "pattern": "\\b(?<secret>sk-ant-api03-[a-zA-Z0-9_-]{93}AA)(?![\\w-])"
  },
  {
    "id": "anthropic-admin-api-key",
    "description": "an Anthropic admin key",
    "keywords": [
      "sk-ant-admin01-"
    ],
    "pattern": "\\b(?<secret>sk-ant-admin01-[a-zA-Z0-9_-]{93}AA)(?![\\w-])"
  },
  {
    "id": "anthropic-oauth-token",
    "description": "an Anthropic OAuth token",
    "keywords": [
      "sk-ant-oat01-",
      "sk-ant-ort01-"
    ],
    "pattern": "\\b(?<secret>sk-ant-o[ar]t01-[a-zA-Z0-9_-]{80,120})(?![\\w-])"
  },
  {
    "id": "perplexity-api-key",
    "keywords": [
      "pplx-"
    ],
    "pattern": "\\b(?<secret>pplx-[a-zA-Z0-9]{48})\\b"
  },
  {
    "id": "groq-api-key",
    "keywords": [
      "gsk_"
    ],
    "pattern": "\\b(?<secret>gsk_[a-zA-Z0-9]{52})\\b"
  },
  {
    "id": "xai-api-key",
    "keywords": [
      "xai-"
    ],
    "pattern": "\\b(?<secret>xai-[a-zA-Z0-9]{80})\\b"
  },
  {
    "id": "replicate-api-token",
    "keywords": [
      "r8_"
    ],
    "pattern": "\\b(?<secret>r8_[a-zA-Z0-9]{37})\\b",
    "entropy": 3
  },
  {
    "id": "huggingface-access-token",
    "description": "a Hugging Face token",
    "keywords": [
      "hf_"
    ],
    "pattern": "\\b(?<secret>hf_[a-zA-Z]{34})\\b",
    "entropy": 3.5,
    "classes": 2
  },
  {
    "id": "huggingface-organization-api-token",
    "keywords": [
      "api_org_"
    ],
    "pattern": "\\b(?<secret>api_org_[a-zA-Z]{34})\\b",
    "entropy": 3.5,
    "classes": 2
  },
  {
    "id": "1password-service-account-token",
    "description": "a 1Password service account token",
    "keywords": [
      "ops_eyJ"
    ],
    "after": 4000,
    "pattern": "\\b(?<secret>ops_eyJ[a-zA-Z0-9+/]{250,}={0,3})",
    "entropy": 4
  },
  {
    "id": "1password-secret-key",
    "keywords": [
      "A3-"
    ],
    "pattern": "\\b(?<secret>A3-[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5})\\b",
    "entropy": 3.5
  },
  {
    "id": "datadog-access-token",
    "description": "a Datadog API or application key",
    "keywords": [
      "datadog",
      "dd_api",
      "dd_app",
      "dd-api",
      "dd-app"
    ],
    "ignoreCase": true,
    "before": 1,
    "pattern": "(?:datadog|dd)[\\w.-]{0,20}?(?:api|app|application)?[_.-]?key['\"`]?\\s{0,5}(?:=>|:=|=|:)\\s{0,5}['\"`]?(?<secret>[a-f0-9]{40}|[a-f0-9]{32})\\b",
    "entropy": 3
  },
  {
    "id": "newrelic-user-api-key",
    "keywords": [
      "NRAK-"
    ],
    "pattern": "\\b(?<secret>NRAK-[A-Z0-9]{27})\\b"
  },
  {
    "id": "linear-api-key",
    "keywords": [
      "lin_api_"
    ],
    "pattern": "\\b(?<secret>lin_api_[a-zA-Z0-9]{40})\\b"
  },
  {
    "id": "postman-api-token",
    "keywords": [
      "PMAK-"
    ],
    "pattern": "\\b(?<secret>PMAK-[a-fA-F0-9]{24}-[a-fA-F0-9]{34})\\b"
  },
  {
    "id": "notion-api-token",
    "keywords": [
      "ntn_"
    ],
    "pattern": "\\b(?<secret>ntn_[0-9]{11}[A-Za-z0-9]{35})\\b",
    "entropy": 4
  },
  {
    "id": "sentry-org-token",
    "keywords": [
      "sntrys_eyJ"
    ],
    "after": 600,
    "pattern": "\\b(?<secret>sntrys_eyJ[A-Za-z0-9+/=]{30,400}_[A-Za-z0-9+/]{43})"
  },
  {
    "id": "sentry-user-token",
    "keywords": [
      "sntryu_"
    ],
    "pattern": "\\b(?<secret>sntryu_[a-f0-9]{64})\\b"
  },
  {
    "id": "grafana-cloud-api-token",
    "keywords": [
      "glc_"
    ],
    "after": 500,
    "pattern": "\\b(?<secret>glc_[A-Za-z0-9+/]{32,400}={0,2})",
    "entropy": 3.5
  },
  {
    "id": "grafana-service-account-token",
    "keywords": [
      "glsa_"
    ],
    "pattern": "\\b(?<secret>glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8})\\b",
    "entropy": 3.5
  },
  {
    "id": "infracost-api-token",
    "keywords": [
      "ico-"
    ],
    "pattern": "(?<![\\w.-])(?<secret>ico-[a-zA-Z0-9]{32})\\b",
    "entropy": 3.5
  },
  {
    "id": "intra42-client-secret",
    "keywords": [
      "s-s4t2"
    ],
    "pattern": "\\b(?<secret>s-s4t2(?:ud|af)-[a-f0-9]{64})\\b"
  },
  {
    "id": "okta-access-token",
    "keywords": [
      "okta"
    ],
    "ignoreCase": true,
    "before": 1,
    "pattern": "(?<![a-z])okta[\\w.-]{0,30}?['\"`]?\\s{0,5}(?:=>|:=|=|:)\\s{0,5}['\"`]?(?<secret>00[\\w=-]{40})(?![\\w=-])",
    "entropy": 4
  },
  {
    "id": "facebook-page-access-token",
    "keywords": [
      "EAAM",
      "EAAC"
    ],
    "after": 500,
    "pattern": "\\b(?<secret>EAA[MC][a-zA-Z0-9]{100,})"
  },
  {
    "id": "facebook-secret",
    "keywords": [
      "facebook"
    ],
    "ignoreCase": true,
    "before": 1,
    "pattern": "facebook[\\w.-]{0,30}?['\"`]?\\s{0,5}(?:=>|:=|=|:)\\s{0,5}['\"`]?(?<secret>[a-f0-9]{32})\\b",
    "entropy": 3
  },
  {
    "id": "maxmind-license-key",
    "keywords": [
      "_mmk"
    ],
    "before": 40,
    "pattern": "\\b(?<secret>[A-Za-z0-9]{6}_[A-Za-z0-9]{29}_mmk)\\b"
  },
  {
    "id": "sumologic-access-id",
    "keywords": [
      "sumo"
    ],
    "ignoreCase": true,
    "before": 1,
    "pattern": "sumo[\\w.-]{0,20}?access[_.-]?id['\"`]?\\s{0,5}(?:=>|:=|=|:)\\s{0,5}['\"`]?(?<secret>su[a-zA-Z0-9]{12})\\b",
    "entropy": 3
  },
  {
    "id": "sumologic-access-token",
    "keywords": [
      "sumo"
    ],
    "ignoreCase": true,
    "before": 1,
    "pattern": "sumo[\\w.-]{0,20}?access[_.-]?key['\"`]?\\s{0,5}(?:=>|:=|=|:)\\s{0,5}['\"`]?(?<secret>[a-zA-Z0-9]{64})\\b",
    "entropy": 3
  },
  {
    "id": "age-secret-key",
    "keywords": [
      "AGE-SECRET-KEY-1"
    ],
    "pattern": "(?<secret>AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58})"
  },
  {
    "id": "sidekiq-secret",
    "keywords": [
      "__CONTRIBSYS__COM"
    ],
    "ignoreCase": true,
    "before": 40,
    "pattern": "BUNDLE_(?:ENTERPRISE|GEMS)__CONTRIBSYS__COM['\"`]?\\s{0,5}(?:=|:)\\s{0,5}['\"`]?(?<secret>[a-f0-9]{8}:[a-f0-9]{8})\\b"
  },
  {
    "id": "jwt",
    "description": "a JSON Web Token",
    "keywords": [
      "eyJhbGci",
      "eyJ0eXAi",
      "eyJraWQi",
      "eyJ4NXQi",
      "eyJlbmMi",
      "eyJjdHki",
      "eyJ6aXAi",
      "eyJqa3Ui",
      "eyAiYWxnIj",
      "eyAidHlwIj"
    ],
    "after": 8000,
    "pattern": "\\b(?<secret>ey[a-zA-Z0-9]{17,}\\.ey[a-zA-Z0-9/\\\\_-]{17,}\\.(?:[a-zA-Z0-9/\\\\_-]{10,}={0,2})?)"
  },
  {
    "id": "private-key",
    "description": "a PEM private key",
    "keywords": [
      "-----BEGIN"
    ],
    "multiline": true,
    "before": 0,
    "after": 65536,
    "pattern": "-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----(?:(?!-----)[\\s\\S]){64,}?(?:-----END[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----|$)"
  },
  {
    "id": "authorization-header",
    "description": "credentials in an Authorization header",
    "keywords": [
      "authorization",
      "bearer"
    ],
    "ignoreCase": true,
    "before": 1,
    "after": 2000,
    "pattern": "(?:authorization['\"]?\\s{0,5}[:=]\\s{0,5}['\"]?(?:(?:bearer|basic|token|digest|negotiate|apikey|sso-key)\\s+)?|\\bbearer\\s+)(?<secret>[A-Za-z0-9._~+/=:@!#%^&*-]{8,})",
    "entropy": 2.5,
    "classes": 2
  },
  {
    "id": "password-in-url",
    "description": "a password in a URL",
    "keywords": [
      "[a-z0-9]://"
    ],
    "before": 40,
    "anchor": "word",
    "needs": {
      "byte": "@",
      "stop": " \t\r/?#'\"<>"
    },
    "pattern": "\\b[a-zA-Z][a-zA-Z0-9+.-]{1,30}://[^\\s:/?#@'\"]{0,100}:(?<secret>[^\\s/?#@'\"]{1,200})@[A-Za-z0-9.\\[\\]_-]"
  },
  {
    "id": "curl-auth-user",
    "description": "the password of curl -u / --user",
    "keywords": [
      "curl"
    ],
    "multiline": true,
    "after": 600,
    "pattern": "\\bcurl\\b(?:[^\\n]|\\\\\\r?\\n){0,400}?\\s(?:-u|--user)\\s+['\"]?(?<name>[^\\s'\":]*):['\"]?(?<secret>[^\\s'\"]{3,})",
    "classes": 2,
    "exclude": [
      "^[a-z]+$",
      "^[A-Z]+$",
      "[<>{}$]"
    ],
    "excludeName": [
      "^[<$]"
    ]
  },
  {
    "id": "nuget-config-password",
    "keywords": [
      "password"
    ],
    "ignoreCase": true,
    "before": 30,
    "pattern": "<add key=\\s*\"(?:ClearText)?Password\"\\s+value=\\s*\"(?<secret>[^\"]{6,})\"",
    "entropy": 2
  },
  {
    "id": "generic-password",
    "description": "a password assignment",
    "keywords": [
      "password",
      "passwd",
      "_pwd",
      "-pwd",
      ".pwd",
      "passphrase",
      "_pass",
      "-pass"
    ],
    "ignoreCase": true,
    "before": 80,
    "anchor": "word",
    "endsName": true,
    "pattern": "(?<![\\w.-])(?<name>[\\w.-]{0,60}?(?:password|passwd|pwd|passphrase|_pass|-pass)\\d{0,2})(?:[ \\t]{1,5}[a-z]\\w{0,9})?(?:['\"`\\]]?[ \\t]{0,20}(?:=>|:{1,3}=|\\?=|\\.=|=|:)|['\"`][ \\t]{0,5},)[ \\t]{0,20}['\"`]?(?<secret>[^\\s'\"`,;]{6,200})",
    "entropy": 2.5,
    "exclude": [
      "^(?:true|false|null|none|nil|undefined|required|optional|string|password|changeme|secret|\\*+)$"
    ],
    "excludeName": [
      "(?:^|[_.-])(?:min|max)",
      "length$",
      "policy",
      "reset",
      "forgot",
      "expir"
    ]
  },
  {
    "id": "generic-api-key",
    "description": "a key, token or secret assignment with a high-entropy value",
    "keywords": [
      "[a-z_.-]key",
      "token",
      "secret",
      "credential",
      "auth"
    ],
    "ignoreCase": true,
    "before": 80,
    "anchor": "word",
    "endsName": true,
    "pattern": "(?<![\\w.-])(?<name>[\\w.-]{0,60}?(?:key|token|secret|credentials?|auth)\\d{0,2})(?:[ \\t]{1,5}[a-z]\\w{0,9})?(?:['\"`\\]]?[ \\t]{0,20}(?:=>|:{1,3}=|\\?=|\\.=|=|:)|['\"`][ \\t]{0,5},)[ \\t]{0,20}['\"`]?(?<secret>[\\w.=~+/!@#%^&*:-]{8,500})",
    "entropy": 3.5,
    "minLength": 10,
    "classes": 2,
    "exclude": [
      "^[a-z]+\\d{0,2}(?:[._-][a-z]+\\d{0,2})+$",
      "^(?:https?|file)://",
      "^/",
      "^[A-Za-z_][\\w.-]*=[^=]",
      "(?:key|token|secret|password)$"
    ],
    "excludeName": [
      "public",
      "(?:^|[_.-])pub(?:lic)?[_.-]?key",
      "csrf",
      "xsrf",
      "next[_.-]?token",
      "page[_.-]?token",
      "continuation",
      "cursor",
      "idempoten",
      "cache[_.-]?key",
      "sort[_.-]?key",
      "partition[_.-]?key",
      "routing[_.-]?key",
      "primary[_.-]?key",
      "foreign[_.-]?key",
      "keyboard",
      "monkey",
      "hotkey",
      "turkey",
      "donkey",
      "jockey",
      "hockey",
      "lackey",
      "whiskey"
    ]
  }
];
