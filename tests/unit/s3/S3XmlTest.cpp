// The S3 XML documents, as Amazon S3 and Ceph RGW write them.
#include <gtest/gtest.h>

#include "s3/Checksums.hpp"
#include "s3/S3Client.hpp"
#include "s3/S3Xml.hpp"

namespace callrec::s3 {
namespace {

TEST(S3Xml, ErrorDocument) {
  auto error = ParseError(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>NoSuchBucket</Code>"
      "<Message>The specified bucket does not exist</Message><BucketName>x</BucketName>"
      "<RequestId>tx1</RequestId></Error>");
  ASSERT_TRUE(error);
  EXPECT_EQ(error->code, "NoSuchBucket");
  EXPECT_EQ(error->message, "The specified bucket does not exist");
  EXPECT_FALSE(ParseError("not xml"));
  EXPECT_FALSE(ParseError("<!DOCTYPE x [<!ENTITY a \"b\">]><Error><Code>&a;</Code></Error>"));
}

TEST(S3Xml, UploadIdAndPartsAndComplete) {
  EXPECT_EQ(ParseUploadId("<InitiateMultipartUploadResult xmlns=\"http://s3.amazonaws.com/doc/"
                          "2006-03-01/\"><Bucket>b</Bucket><Key>k</Key><UploadId>2~abc</UploadId>"
                          "</InitiateMultipartUploadResult>"),
            "2~abc");
  auto list = ParseListParts(
      "<ListPartsResult><IsTruncated>true</IsTruncated><NextPartNumberMarker>2"
      "</NextPartNumberMarker><Part><PartNumber>1</PartNumber><ETag>&quot;aa&quot;</ETag>"
      "<Size>5242880</Size></Part><Part><PartNumber>2</PartNumber><ETag>\"bb\"</ETag>"
      "<Size>10</Size></Part></ListPartsResult>");
  ASSERT_TRUE(list);
  EXPECT_TRUE(list->truncated);
  EXPECT_EQ(list->next_marker, 2);
  ASSERT_EQ(list->parts.size(), 2u);
  EXPECT_EQ(list->parts[0], (UploadedPart{1, "\"aa\"", 5242880}));
  EXPECT_EQ(list->parts[1].etag, "\"bb\"");
  // Ceph RGW 16 completes with an empty ETag.
  EXPECT_EQ(ParseCompleteETag("<CompleteMultipartUploadResult><Location>l</Location><ETag></ETag>"
                              "</CompleteMultipartUploadResult>"),
            "");
  EXPECT_FALSE(ParseCompleteETag("<Error><Code>InternalError</Code></Error>"));
  EXPECT_EQ(CompleteMultipartXml({{1, "\"a\"", 0}, {2, "\"b\"", 0}}),
            "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Part>"
            "<PartNumber>1</PartNumber><ETag>&quot;a&quot;</ETag></Part><Part><PartNumber>2"
            "</PartNumber><ETag>&quot;b&quot;</ETag></Part></CompleteMultipartUpload>");
}

TEST(S3Xml, ErrorsAreSortedByWhatToDo) {
  httpclient::HttpReply reply;
  reply.status = 503;
  reply.body = "<Error><Code>SlowDown</Code><Message>Please reduce</Message></Error>";
  EXPECT_EQ(ErrorFromReply(reply).kind, ErrorKind::kThrottled);
  EXPECT_TRUE(ErrorFromReply(reply).Retryable());
  reply.status = 403;
  reply.body = "<Error><Code>SignatureDoesNotMatch</Code></Error>";
  EXPECT_EQ(ErrorFromReply(reply).kind, ErrorKind::kDenied);
  EXPECT_FALSE(ErrorFromReply(reply).Retryable());
  EXPECT_EQ(ErrorFromReply(reply).Describe(), "403 SignatureDoesNotMatch");
  reply.status = 404;
  reply.body = "";
  EXPECT_EQ(ErrorFromReply(reply).Reason(), std::string("not_found"));
  reply.status = 400;
  reply.body = "<Error><Code>BadDigest</Code></Error>";
  EXPECT_EQ(ErrorFromReply(reply).kind, ErrorKind::kIntegrity);
  reply.status = 200;  // CompleteMultipartUpload's late failure
  reply.body = "<Error><Code>InternalError</Code></Error>";
  EXPECT_EQ(ErrorFromReply(reply).kind, ErrorKind::kServer);
}

TEST(Checksums, Rfc1321AndFips180Vectors) {
  const BodyChecksums sums = ChecksumsOf("abc");
  EXPECT_EQ(sums.content_md5, "kAFQmDzST7DWlj99KOF/cg==");  // 900150983cd24fb0d6963f7d28e17f72
  EXPECT_EQ(sums.sha256_hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sums.sha256_base64, "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=");
}

}  // namespace
}  // namespace callrec::s3
