"""Evidence packs: results, charts, the HTML report, the signed manifest."""
