{
 "signatures": [
  {
   "keyid": "038a857318db992f",
   "sha256": "086b5a59b021d73c5451dbee571c84b2cebf718a8f954605321ff69cc21ea65e",
   "sig": "eQ1omEty55zk2iGHh8p0v6i2TSJ3J3+bJllzYFuxPm9+6g0kJa/jQVVBhu3x2j/h9y/6gRnqZw8HPV/AyD3UAA=="
  }
 ]
}
