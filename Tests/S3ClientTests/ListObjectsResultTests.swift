import Testing
@testable import S3Client

/// ListObjectsV2 pages as S3-compatible services send them, and documents a hostile or
/// broken endpoint could send instead.
@Suite struct ListObjectsResultTests {
    static let page = """
        <?xml version="1.0" encoding="UTF-8"?>
        <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
          <Name>warren</Name><Prefix>cache/golang.org/x/text/@v/</Prefix><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys>
          <IsTruncated>true</IsTruncated>
          <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
          <Contents>
            <Key>cache/golang.org/x/text/@v/v0.7.0.info</Key>
            <LastModified>2026-12-01T10:00:00.000Z</LastModified>
            <ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag>
            <Size>50</Size><StorageClass>STANDARD</StorageClass>
          </Contents>
          <Contents>
            <Key>cache/golang.org/x/text/@v/v0.7.0+incompatible&amp;odd&#x3C;.zip</Key>
            <ETag>"abc-2"</ETag><Size>3145728</Size><Owner><ID>x</ID></Owner>
          </Contents>
        </ListBucketResult>
        """

    @Test func aPageWithItsTokenAndEveryKey() throws {
        let result = try ListObjectsResult.parse(Array(Self.page.utf8))
        #expect(result.isTruncated)
        #expect(result.nextContinuationToken == "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=")
        #expect(result.objects == [
            .init(key: "cache/golang.org/x/text/@v/v0.7.0.info", size: 50, etag: "\"9b2cf535f27731c974343645a3985328\""),
            .init(key: "cache/golang.org/x/text/@v/v0.7.0+incompatible&odd<.zip", size: 3_145_728, etag: "\"abc-2\""),
        ])
    }

    @Test func theLastPageAndAnEmptyOne() throws {
        let last = try ListObjectsResult.parse(Array("<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>a</Key><Size>0</Size></Contents></ListBucketResult>".utf8))
        #expect(!last.isTruncated && last.nextContinuationToken == nil && last.objects.count == 1)
        let empty = try ListObjectsResult.parse(Array("<ListBucketResult><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated><Prefix/></ListBucketResult>".utf8))
        #expect(empty.objects.isEmpty)
    }

    static let refused: [String] = [
        "",
        "<Error><Code>AccessDenied</Code></Error>",
        "<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>",  // truncated, no token
        "<ListBucketResult><Contents><Size>1</Size></Contents></ListBucketResult>",  // no key
        "<ListBucketResult><Contents><Key>a</Key></Contents></ListBucketResult>",  // no size
        "<ListBucketResult><Contents><Key>a</Key><Size>1</Size></ListBucketResult>",  // mismatched close
        "<ListBucketResult>",
        "<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><ListBucketResult>&e;</ListBucketResult>",
        "<ListBucketResult><Contents><Key>&bogus;</Key><Size>1</Size></Contents></ListBucketResult>",
        "text<ListBucketResult></ListBucketResult>",
        String(repeating: "<a>", count: 100) + String(repeating: "</a>", count: 100),
    ]

    @Test(arguments: refused)
    func brokenOrHostileDocumentsAreRefused(_ document: String) {
        #expect(throws: ListObjectsResult.Malformed.self) { try ListObjectsResult.parse(Array(document.utf8)) }
    }
}
