"""ClipGen: long videos into short vertical clips, and a marketplace around them."""
