// storage_s3's S3 client without a network: the SigV4 signer against AWS's published vectors
// (the Signature Version 4 test suite, and the S3 examples of "Signature Calculations for the
// Authorization Header"), the encodings it rests on, the XML it reads, and the settings it
// refuses. The cross-check against AWS's own signer on random requests is in
// integration/storage_s3_test.cpp (it runs Node).
#include <gtest/gtest.h>

#include "s3_client.hpp"
#include "sigv4.hpp"

namespace framehouse::storage_s3 {
namespace {

constexpr const char* kEmptySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// The test suite's credentials and scope.
const Credentials kSuite{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"};
const SigningScope kSuiteScope{"us-east-1", "service", "20150830T123600Z"};
// The S3 documentation's.
const Credentials kS3Docs{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"};
const SigningScope kS3DocsScope{"us-east-1", "s3", "20130524T000000Z"};

TEST(SigV4, GetVanillaFromTheTestSuite) {
  const auto signature = sign({"GET", "/", {}, {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}}, kEmptySha256},
                              kSuite, kSuiteScope);
  EXPECT_EQ(signature.canonical_request,
            std::string("GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n") + kEmptySha256);
  EXPECT_EQ(signature.string_to_sign,
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
            "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
  EXPECT_EQ(signature.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, "
            "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

TEST(SigV4, PostVanillaFromTheTestSuite) {
  const auto signature = sign({"POST", "/", {}, {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}}, kEmptySha256},
                              kSuite, kSuiteScope);
  EXPECT_EQ(signature.signature, "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b");
}

TEST(SigV4, TheS3DocumentationExamples) {
  // GET Object, first ten bytes.
  EXPECT_EQ(sign({"GET", "/test.txt", {},
                  {{"Host", "examplebucket.s3.amazonaws.com"}, {"Range", "bytes=0-9"}, {"x-amz-content-sha256", kEmptySha256},
                   {"x-amz-date", "20130524T000000Z"}},
                  kEmptySha256},
                 kS3Docs, kS3DocsScope)
                .signature,
            "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  // PUT Object: a key with '$' in it, encoded once.
  const std::string body_sha256 = sha256_hex(std::string_view("Welcome to Amazon S3."));
  EXPECT_EQ(body_sha256, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  EXPECT_EQ(sign({"PUT", "/" + uri_encode("test$file.text", true), {},
                  {{"Host", "examplebucket.s3.amazonaws.com"}, {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                   {"x-amz-date", "20130524T000000Z"}, {"x-amz-storage-class", "REDUCED_REDUNDANCY"},
                   {"x-amz-content-sha256", body_sha256}},
                  body_sha256},
                 kS3Docs, kS3DocsScope)
                .signature,
            "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
  // GET Bucket lifecycle: a query parameter without a value.
  EXPECT_EQ(sign({"GET", "/", {{"lifecycle", ""}},
                  {{"Host", "examplebucket.s3.amazonaws.com"}, {"x-amz-date", "20130524T000000Z"},
                   {"x-amz-content-sha256", kEmptySha256}},
                  kEmptySha256},
                 kS3Docs, kS3DocsScope)
                .signature,
            "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
  // GET Bucket (list objects): the query sorted by name.
  EXPECT_EQ(sign({"GET", "/", {{"prefix", "J"}, {"max-keys", "2"}},
                  {{"Host", "examplebucket.s3.amazonaws.com"}, {"x-amz-date", "20130524T000000Z"},
                   {"x-amz-content-sha256", kEmptySha256}},
                  kEmptySha256},
                 kS3Docs, kS3DocsScope)
                .signature,
            "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(SigV4, HeaderValuesAreTrimmedAndRepeatedNamesJoined) {
  const auto signature = sign({"GET", "/", {},
                               {{"My-Header1", "  value1  "}, {"My-Header2", "\"a   b   c\""}, {"host", "example.amazonaws.com"},
                                {"x-amz-date", "20150830T123600Z"}, {"my-header1", "value2"}},
                               kEmptySha256},
                              kSuite, kSuiteScope);
  EXPECT_EQ(signature.canonical_request,
            std::string("GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value1,value2\nmy-header2:\"a b c\"\n"
                        "x-amz-date:20150830T123600Z\n\nhost;my-header1;my-header2;x-amz-date\n") +
                kEmptySha256);
}

TEST(SigV4, EncodesTheWayAwsDefines) {
  EXPECT_EQ(uri_encode("a b/c~d$", true), "a%20b/c~d%24");
  EXPECT_EQ(uri_encode("a/b", false), "a%2Fb");
  EXPECT_EQ(uri_encode("é+*", false), "%C3%A9%2B%2A");
  EXPECT_EQ(uri_encode("AZaz09-._~", false), "AZaz09-._~");
  EXPECT_EQ(canonical_query({{"prefix", "framehouse/usr_a/"}, {"list-type", "2"}, {"uploads", ""}, {"a b", "x=y"}}),
            "a%20b=x%3Dy&list-type=2&prefix=framehouse%2Fusr_a%2F&uploads=");
  EXPECT_EQ(canonical_query({{"k", "2"}, {"k", "1"}}), "k=1&k=2");  // a repeated name: by value
  EXPECT_EQ(amz_date(std::chrono::system_clock::from_time_t(1440938160)), "20150830T123600Z");
  const std::string hello = "hello";
  EXPECT_EQ(md5_base64(std::as_bytes(std::span(hello.data(), hello.size()))), "XUFAKrxLKna5cZ2REBfFkg==");
}

TEST(S3Xml, ReadsElementsTextAndEntities) {
  const std::string xml =
      "<ListBucketResult><IsTruncated>true</IsTruncated><Keys>no</Keys>"
      "<Contents><Key>p/a&amp;b &#233;&#x4E2D;</Key><Size>3</Size></Contents>"
      "<Contents><Key>p/c</Key><Size>10</Size></Contents><Empty/></ListBucketResult>";
  const auto contents = xml_elements(xml, "Contents");
  ASSERT_EQ(contents.size(), 2u);
  EXPECT_EQ(xml_text(contents[0], "Key"), "p/a&b \xC3\xA9\xE4\xB8\xAD");
  EXPECT_EQ(xml_text(contents[1], "Size"), "10");
  EXPECT_EQ(xml_text(xml, "IsTruncated"), "true");
  EXPECT_EQ(xml_elements(xml, "Key").size(), 2u);  // <Keys> is another element
  EXPECT_EQ(xml_elements(xml, "Empty").size(), 1u);
  EXPECT_EQ(xml_text(xml, "Missing"), "");
  EXPECT_EQ(xml_escape("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&apos;");
}

ClientSettings settings(std::string endpoint, bool path_style = true) {
  ClientSettings out;
  out.endpoint = std::move(endpoint);
  out.bucket = "framehouse-media";
  out.path_style = path_style;
  out.credentials = {"AKID", "secret"};
  return out;
}

TEST(S3Client, RefusesSettingsThatCannotWork) {
  EXPECT_TRUE(S3Client::create(settings("https://s3.example.org")));
  EXPECT_TRUE(S3Client::create(settings("https://s3.example.org:9000/", false)));
  EXPECT_TRUE(S3Client::create(settings("http://127.0.0.1:9000")));  // loopback: a sidecar
  const auto refused = [](ClientSettings candidate) {
    auto created = S3Client::create(std::move(candidate));
    EXPECT_FALSE(created);
    return created ? std::string() : created.outcome().message();
  };
  EXPECT_NE(refused(settings("http://s3.example.org")).find("https://"), std::string::npos);  // never in the clear
  EXPECT_NE(refused(settings("ftp://s3.example.org")).find("endpoint"), std::string::npos);
  EXPECT_NE(refused(settings("https://s3.example.org/bucket")).find("without a path"), std::string::npos);
  EXPECT_NE(refused(settings("https://10.0.0.5:9000", false)).find("force_path_style"), std::string::npos);
  auto bad_bucket = settings("https://s3.example.org");
  bad_bucket.bucket = "Not_A_Bucket";
  EXPECT_NE(refused(bad_bucket).find("bucket"), std::string::npos);
  auto no_secret = settings("https://s3.example.org");
  no_secret.credentials.secret_access_key.clear();
  EXPECT_NE(refused(no_secret).find("secret_access_key"), std::string::npos);
}

}  // namespace
}  // namespace framehouse::storage_s3
