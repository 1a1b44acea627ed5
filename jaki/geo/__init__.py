"""Jakarta areas (kota, kecamatan, kelurahan) and locating points in them."""
