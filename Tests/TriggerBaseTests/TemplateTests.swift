import JSON
import Testing
@testable import API
@testable import Auth
@testable import Model
@testable import Records
@testable import RecordWorkflows
@testable import Storage
@testable import Workflows

/// spec 04's templates: a whole-string template keeps the value's type, inline ones render text.
@Suite struct TemplateTests {
    let scope: JSON = [
        "$context": ["data": ["id": 5, "title": "Hi", "tags": ["a", "b"], "draft": false, "none": .null]],
        "$jobsMapByNodeKey": ["n1": ["status": 200]],
    ]

    @Test(arguments: [
        ("{{$context.data.id}}", 5), ("{{ $context.data.draft }}", false), ("{{$context.data.tags}}", ["a", "b"]),
        ("{{$jobsMapByNodeKey.n1.status}}", 200), ("{{$context.data.missing}}", .null), ("{{$context.data.none}}", .null),
    ] as [(String, JSON)])
    func wholeStringTemplate_keepsTheValuesType(text: String, value: JSON) {
        #expect(Template.render(Template.compile(.string(text)), scope: scope) == value)
    }

    @Test(arguments: [
        ("id {{ $context.data.id }}!", "id 5!"), ("{{$context.data.title}}-{{$context.data.id}}", "Hi-5"),
        ("tags: {{$context.data.tags}}", #"tags: ["a","b"]"#), ("[{{$context.data.missing}}]", "[]"),
        ("no templates", "no templates"), ("{{ unclosed", "{{ unclosed"), ("{{}} stays", "{{}} stays"),
    ])
    func inlineTemplates_renderText(text: String, rendered: String) {
        #expect(Template.render(Template.compile(.string(text)), scope: scope) == .string(rendered))
    }

    @Test func render_walksObjectsAndArrays_andReferencesListsPaths() {
        let config: JSON = ["url": "https://x/{{$context.data.id}}", "body": ["ids": ["{{$context.data.id}}"]], "n": 1]
        #expect(Template.render(Template.compile(config), scope: scope) == ["url": "https://x/5", "body": ["ids": [5]], "n": 1])
        #expect(Template.references(in: config) .sorted { $0.joined() < $1.joined() }
                == [["$context", "data", "id"], ["$context", "data", "id"]])
    }

    /// A node keeps its config compiled once; each run renders it against its own scope.
    @Test func aCompiledConfigRendersAgainstEachScope_keepingKeyOrderAndConstants() {
        let config: JSON = ["z": "{{$context.data.id}}", "a": ["fixed": [1, "x"]], "m": "id {{$context.data.id}}!"]
        let compiled = Template.compile(config)
        #expect(Template.render(compiled, scope: scope).serialized() == #"{"z":5,"a":{"fixed":[1,"x"]},"m":"id 5!"}"#)
        let other: JSON = ["$context": ["data": ["id": 6]]]
        #expect(Template.render(compiled, scope: other).serialized() == #"{"z":6,"a":{"fixed":[1,"x"]},"m":"id 6!"}"#)
    }
}
