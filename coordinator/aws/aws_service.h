/*
 * aws_service — the table of AWS services the coordinator talks to: the CLI's name, the SDKs'
 * service id (for AWS_ENDPOINT_URL_<ID> and the config file's services section), the signing
 * name, the default host, the wire protocol and, for JSON 1.1, the X-Amz-Target prefix.
 *
 * It does not resolve endpoints (aws_config) nor send anything (aws_client). Constant data:
 * the returned pointers are static and never freed.
 */
#ifndef SV_AWS_SERVICE_H
#define SV_AWS_SERVICE_H

enum aws_protocol {
	AWS_PROTO_JSON11,  /* POST /, X-Amz-Target: <prefix>.<Operation>, application/x-amz-json-1.1 */
	AWS_PROTO_RESTXML, /* REST verbs on paths, XML bodies (Route 53, S3) */
	AWS_PROTO_QUERY,   /* POST form Action=...&Version=..., XML answers (STS, IAM) */
};

struct aws_service {
	const char *name;          /* as on the aws CLI: "ecs", "logs", "route53" */
	const char *env_id;        /* AWS_ENDPOINT_URL_<env_id>: "ECS", "CLOUDWATCH_LOGS", "ROUTE_53" */
	const char *config_key;    /* key in a [services x] section: "ecs", "cloudwatch_logs" */
	const char *signing_name;  /* SigV4 service: "ecs", "logs", "route53" */
	const char *host_prefix;   /* https://<host_prefix>.<region>.amazonaws.com */
	const char *global_region; /* a global service's one region and host (route53, iam), else NULL */
	const char *target_prefix; /* JSON 1.1 only */
	const char *api_version;   /* query protocol's Version, REST-XML's path prefix */
	enum aws_protocol protocol;
};

/* By CLI name ("ecs") or service id ("CloudWatch Logs", "cloudwatch-logs"); NULL if unknown. */
const struct aws_service *aws_service_find(const char *name);
/* "ecs, ecr, logs, ..." for usage messages (static). */
const char *aws_service_names(void);

#endif
