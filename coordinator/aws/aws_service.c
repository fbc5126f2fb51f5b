/* aws_service — see aws_service.h. */
#include "aws_service.h"

#include <ctype.h>
#include <stddef.h>
#include <string.h>

static const struct aws_service services[] = {
	{"ecs", "ECS", "ecs", "ecs", "ecs", NULL, "AmazonEC2ContainerServiceV20141113", "2014-11-13", AWS_PROTO_JSON11},
	{"ecr", "ECR", "ecr", "ecr", "api.ecr", NULL, "AmazonEC2ContainerRegistry_V20150921", "2015-09-21", AWS_PROTO_JSON11},
	{"logs", "CLOUDWATCH_LOGS", "cloudwatch_logs", "logs", "logs", NULL, "Logs_20140328", "2014-03-28", AWS_PROTO_JSON11},
	{"route53", "ROUTE_53", "route_53", "route53", "route53", "us-east-1", NULL, "2013-04-01", AWS_PROTO_RESTXML},
	{"s3", "S3", "s3", "s3", "s3", NULL, NULL, "2006-03-01", AWS_PROTO_RESTXML},
	{"sts", "STS", "sts", "sts", "sts", NULL, NULL, "2011-06-15", AWS_PROTO_QUERY},
	{"iam", "IAM", "iam", "iam", "iam", "us-east-1", NULL, "2010-05-08", AWS_PROTO_QUERY},
	{"ec2", "EC2", "ec2", "ec2", "ec2", NULL, NULL, "2016-11-15", AWS_PROTO_QUERY},
};

/* Compares ignoring case and the separators ' ', '-', '_' ("CloudWatch Logs" = "cloudwatch_logs"). */
static int loose_eq(const char *a, const char *b)
{
	for (;;) {
		while (*a == ' ' || *a == '-' || *a == '_')
			a++;
		while (*b == ' ' || *b == '-' || *b == '_')
			b++;
		if (!*a || !*b)
			return !*a && !*b;
		if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
			return 0;
		a++;
		b++;
	}
}

const struct aws_service *aws_service_find(const char *name)
{
	for (size_t i = 0; i < sizeof services / sizeof services[0]; i++)
		if (strcmp(name, services[i].name) == 0 || loose_eq(name, services[i].env_id))
			return &services[i];
	return NULL;
}

const char *aws_service_names(void)
{
	return "ecs, ecr, logs (JSON 1.1); route53, s3 (REST-XML); sts, iam, ec2 (query)";
}
