/*
 * aws_xml — an AWS XML answer (REST-XML: Route 53, S3; query protocol: STS, IAM) as JSON,
 * the way `aws` prints it, without the service model.
 *
 * Rules: the root element's children become the output object; a query-protocol
 * "<Operation>Result" element is unwrapped and ResponseMetadata dropped. An element with
 * children is an object, a repeated child name an array; an element whose children all share
 * one name and whose name is that name plus "s" (HostedZones/HostedZone), or whose children are
 * "member"/"item", is an array; an empty plural element is []; S3's flattened lists (Contents,
 * CommonPrefixes, Versions, DeleteMarkers, Deleted) are arrays even with one element; a root
 * without children is {"Root": text or null}. Leaf text "true"/"false" becomes a
 * boolean, anything else a string (numbers too: without the model, "123456789012" could be an
 * account id as well as a count). These are guesses: callers read the fields they need by name.
 *
 * Pure (expat, jansson). Bounds: AWS_XML_MAX_DEPTH levels, AWS_XML_MAX_NODES elements, the
 * document size the caller passes (aws_http bounds it). Errors: NULL and the reason in err.
 */
#ifndef SV_AWS_XML_H
#define SV_AWS_XML_H

#include <stddef.h>

#include <jansson.h>

#define AWS_XML_MAX_DEPTH 64
#define AWS_XML_MAX_NODES 200000

/* operation: for unwrapping "<operation>Result"; may be NULL. Returns a new reference. */
json_t *aws_xml_to_json(const char *xml, size_t len, const char *operation, char *err, size_t errlen);

#endif
