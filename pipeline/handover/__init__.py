"""The hand-over package for outsourcing: 業務一覧表, flow (BPMN + SVG/PNG), 判断基準表 and DMN,
例外一覧, 手順書 (docx/md), 要確認事項, zipped with an index page.

``assemble`` gathers the engagement's inventory; the writers (``sheets``, ``bpmn``, ``diagram``,
``rules``, ``manual``) each make one kind of file; ``package`` puts them together.
"""
