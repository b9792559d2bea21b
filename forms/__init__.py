"""The form engine: field types, normalisers, page forms, answers and fees.

A pure library: it knows the procedure model (`workflow.model`) and
wtforms, never the web application.  Entry points:

* `forms.registry.REGISTRY`, the field types (the loader's `FieldTypeCatalog`);
* `forms.builder`: `page_form_class`, `bind_page_form`, `fields_to_render`,
  `validate_page`, `repeat_errors`, `check_answers`, `transition_page`;
* `forms.answers`: visibility, pruning and JSON of an application's answers;
* `forms.fees.compute_fee`;
* `forms.normalise`: the validators of Japanese formats;
* `forms.messages.message`: every refusal in Japanese and English.
"""
