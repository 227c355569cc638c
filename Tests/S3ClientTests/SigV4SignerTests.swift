import Crypto
import Foundation
import Testing
@testable import S3Client

/// The signer against AWS's published examples: the Signature Version 4 test suite's
/// `get-vanilla` and the four worked examples of the S3 API reference ("Signature
/// Calculations for the Authorization Header"). Any difference in encoding, sorting,
/// trimming or key derivation changes these signatures.
@Suite struct SigV4SignerTests {
    /// The S3 reference's example key and time (2013-05-24T00:00:00Z).
    static let s3Example = SigV4Signer(
        credentials: AWSCredentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
        region: "us-east-1")
    static let may24 = Date(timeIntervalSince1970: 1_369_353_600)
    static let host = "examplebucket.s3.amazonaws.com"

    func signature(_ headers: [(name: String, value: String)]) -> String? {
        guard let auth = headers.first(where: { $0.name == "Authorization" })?.value,
              let range = auth.range(of: "Signature=") else { return nil }
        return String(auth[range.upperBound...])
    }

    @Test func testSuiteGetVanilla() {
        let signer = SigV4Signer(
            credentials: AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
            region: "us-east-1", service: "service")
        let request = SigV4Signer.Request(method: "GET", host: "example.amazonaws.com", path: "/",
                                          payloadHash: SigV4Signer.emptyPayloadHash)
        let headers = signer.sign(request, at: Date(timeIntervalSince1970: 1_440_938_160), signContentHash: false)
        #expect(headers.first { $0.name == "x-amz-date" }?.value == "20150830T123600Z")
        #expect(headers.first { $0.name == "Authorization" }?.value ==
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, "
            + "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
    }

    @Test func s3GetObjectWithRange() {
        let request = SigV4Signer.Request(method: "GET", host: Self.host, path: "/test.txt",
                                          headers: [("Range", "bytes=0-9")], payloadHash: SigV4Signer.emptyPayloadHash)
        let canonical = Self.s3Example.canonicalRequest(request, extraHeaders: [
            ("x-amz-date", "20130524T000000Z"), ("x-amz-content-sha256", SigV4Signer.emptyPayloadHash)])
        #expect(canonical.text == """
            GET
            /test.txt

            host:examplebucket.s3.amazonaws.com
            range:bytes=0-9
            x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            x-amz-date:20130524T000000Z

            host;range;x-amz-content-sha256;x-amz-date
            e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            """)
        #expect(signature(Self.s3Example.sign(request, at: Self.may24)) == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")
    }

    @Test func s3PutObjectWithAReservedCharacterInTheKey() {
        let body = Array("Welcome to Amazon S3.".utf8)
        let request = SigV4Signer.Request(method: "PUT", host: Self.host, path: "/test$file.text",
                                          headers: [("Date", "Fri, 24 May 2013 00:00:00 GMT"), ("x-amz-storage-class", "REDUCED_REDUNDANCY")],
                                          payloadHash: SigV4Signer.hex(SHA256.hash(data: body)))
        #expect(request.payloadHash == "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072")
        #expect(request.encodedPath == "/test%24file.text")
        #expect(signature(Self.s3Example.sign(request, at: Self.may24)) == "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd")
    }

    @Test func s3GetBucketLifecycleWithAValuelessQuery() {
        let request = SigV4Signer.Request(method: "GET", host: Self.host, path: "/", query: [("lifecycle", "")],
                                          payloadHash: SigV4Signer.emptyPayloadHash)
        #expect(request.encodedQuery == "lifecycle=")
        #expect(signature(Self.s3Example.sign(request, at: Self.may24)) == "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543")
    }

    @Test func s3ListObjectsWithTheQuerySorted() {
        let request = SigV4Signer.Request(method: "GET", host: Self.host, path: "/", query: [("prefix", "J"), ("max-keys", "2")],
                                          payloadHash: SigV4Signer.emptyPayloadHash)
        #expect(request.encodedQuery == "max-keys=2&prefix=J")
        #expect(signature(Self.s3Example.sign(request, at: Self.may24)) == "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")
    }

    @Test func temporaryCredentialsSignTheirSessionToken() {
        var credentials = Self.s3Example.credentials
        credentials.sessionToken = "token/with+chars"
        let signer = SigV4Signer(credentials: credentials, region: "us-east-1")
        let request = SigV4Signer.Request(method: "GET", host: Self.host, path: "/a", payloadHash: SigV4Signer.emptyPayloadHash)
        let headers = signer.sign(request, at: Self.may24)
        #expect(headers.contains { $0.name == "x-amz-security-token" && $0.value == "token/with+chars" })
        let auth = headers.first { $0.name == "Authorization" }?.value ?? ""
        #expect(auth.contains("SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token,"))
        #expect(signature(headers) != signature(Self.s3Example.sign(request, at: Self.may24)))
    }

    @Test func encodingKeepsOnlyUnreservedCharactersAndSlashesInPaths() {
        #expect(SigV4URIEncoding.encode("a b/c~d*é") == "a%20b%2Fc~d%2A%C3%A9")
        #expect(SigV4URIEncoding.encodePath("/golang.org/x/text/@v/v0.7.0.zip") == "/golang.org/x/text/%40v/v0.7.0.zip")
        #expect(SigV4URIEncoding.encodePath("/github.com/!azure/@v/list") == "/github.com/%21azure/%40v/list")
    }

    @Test func credentialsNeverPrintTheirSecret() {
        let text = "\(Self.s3Example.credentials)"
        #expect(!text.contains("wJalr"))
        #expect(!text.contains("AKIAIOSFODNN7EXAMPLE"))
        #expect(AWSCredentials.fromEnvironment(["AWS_ACCESS_KEY_ID": "a"]) == nil)
        #expect(AWSCredentials.fromEnvironment(["AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b", "AWS_SESSION_TOKEN": ""])
            == AWSCredentials(accessKeyID: "a", secretAccessKey: "b"))
    }

    /// The S3 reference's query-string example ("Authenticating Requests: Using Query
    /// Parameters"): GET /test.txt, valid for 86400 s.
    @Test func s3PresignedGetExample() {
        let query = Self.s3Example.presignedQuery(method: "GET", host: Self.host, path: "/test.txt", at: Self.may24, expires: 86400)
        #expect(query == "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
            + "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
            + "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")
    }
}
