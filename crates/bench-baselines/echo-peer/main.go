// echo-peer: the Go baseline of `cargo xtask bench http-rest-api`. An idiomatic
// Echo (labstack/echo v4) server doing the work of http-rest-api's read path, as
// the seed planned that service: an in-memory catalog behind a RWMutex, products
// created through POST /api/v1/products (as the bench seeds the app), GET by id
// with its ETag and If-None-Match, and cursor pages of GET /api/v1/products with
// the same JSON shape. Errors are problem+json like the app's. No auth, no rate
// limit, no validation beyond decoding: those are not on the measured read path.
//
// Usage: echo-peer <port>. GOMAXPROCS is Go's default (every core), as the Rust
// app's runtime uses every core.
package main

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"
)

// Product is a product as the API shows it (http-rest-api's `Product` schema).
type Product struct {
	ID          uint64  `json:"id"`
	SKU         string  `json:"sku"`
	Name        string  `json:"name"`
	Description string  `json:"description"`
	Category    string  `json:"category"`
	PriceCents  int64   `json:"price_cents"`
	Stock       int64   `json:"stock"`
	Version     uint64  `json:"version"`
	ImageType   *string `json:"image_type"`
}

// ProductPage is one page of products (the `ProductPage` schema).
type ProductPage struct {
	Items      []Product `json:"items"`
	NextCursor *string   `json:"next_cursor"`
}

// Problem is an RFC 9457 problem+json body.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
}

type store struct {
	mu     sync.RWMutex
	nextID uint64
	byID   map[uint64]Product
	ids    []uint64 // ascending
}

func (s *store) create(p Product) Product {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	p.ID = s.nextID
	p.Version = 1
	p.ImageType = nil
	s.byID[p.ID] = p
	s.ids = append(s.ids, p.ID)
	return p
}

func (s *store) get(id uint64) (Product, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p, ok := s.byID[id]
	return p, ok
}

// page returns up to limit products with ids above after, and whether more follow.
func (s *store) page(after uint64, limit int) ([]Product, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	start := sort.Search(len(s.ids), func(i int) bool { return s.ids[i] > after })
	end := min(start+limit, len(s.ids))
	items := make([]Product, 0, end-start)
	for _, id := range s.ids[start:end] {
		items = append(items, s.byID[id])
	}
	return items, end < len(s.ids)
}

func etag(p Product) string {
	return fmt.Sprintf("\"%d-%d\"", p.ID, p.Version)
}

func problem(c echo.Context, status int, detail string) error {
	c.Response().Header().Set(echo.HeaderContentType, "application/problem+json")
	return c.JSON(status, Problem{
		Type:   "about:blank",
		Title:  http.StatusText(status),
		Status: status,
		Detail: detail,
	})
}

const cursorPrefix = "after:"

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: echo-peer <port>")
		os.Exit(2)
	}
	s := &store{byID: map[uint64]Product{}}
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true

	e.POST("/api/v1/products", func(c echo.Context) error {
		var p Product
		if err := c.Bind(&p); err != nil {
			return problem(c, http.StatusBadRequest, err.Error())
		}
		created := s.create(p)
		c.Response().Header().Set(echo.HeaderLocation, fmt.Sprintf("/api/v1/products/%d", created.ID))
		c.Response().Header().Set("ETag", etag(created))
		return c.JSON(http.StatusCreated, created)
	})

	e.GET("/api/v1/products/:id", func(c echo.Context) error {
		id, err := strconv.ParseUint(c.Param("id"), 10, 64)
		if err != nil || id == 0 {
			return problem(c, http.StatusBadRequest, "id must be a positive integer")
		}
		p, ok := s.get(id)
		if !ok {
			return problem(c, http.StatusNotFound, fmt.Sprintf("no product with id %d", id))
		}
		tag := etag(p)
		c.Response().Header().Set("ETag", tag)
		if match := c.Request().Header.Get("If-None-Match"); match != "" {
			for _, t := range strings.Split(match, ",") {
				t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
				if t == "*" || t == tag {
					return c.NoContent(http.StatusNotModified)
				}
			}
		}
		return c.JSON(http.StatusOK, p)
	})

	e.GET("/api/v1/products", func(c echo.Context) error {
		limit := 20
		if text := c.QueryParam("limit"); text != "" {
			n, err := strconv.Atoi(text)
			if err != nil || n < 1 || n > 100 {
				return problem(c, http.StatusBadRequest, "limit must be 1 to 100")
			}
			limit = n
		}
		var after uint64
		if text := c.QueryParam("cursor"); text != "" {
			raw, err := base64.RawURLEncoding.DecodeString(text)
			rest, found := strings.CutPrefix(string(raw), cursorPrefix)
			id, perr := strconv.ParseUint(rest, 10, 64)
			if err != nil || !found || perr != nil {
				return problem(c, http.StatusBadRequest, "cursor is not a cursor returned by this API")
			}
			after = id
		}
		items, more := s.page(after, limit)
		page := ProductPage{Items: items}
		if more && len(items) > 0 {
			next := base64.RawURLEncoding.EncodeToString(
				[]byte(cursorPrefix + strconv.FormatUint(items[len(items)-1].ID, 10)))
			page.NextCursor = &next
		}
		return c.JSON(http.StatusOK, page)
	})

	if err := e.Start("127.0.0.1:" + os.Args[1]); err != nil && err != http.ErrServerClosed {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
